// colpack_colours.cpp: ColPack's colour counts for a sparsity pattern, the reference of
// tests/test_colouring.c (built by it with g++ and -lColPack, Debian's libcolpack-dev).
// Reads from standard input "J rows cols nnz" or "H n nnz", then nnz pairs "row col" (a
// Hessian's lower triangle: both triangles are given to ColPack). Prints one line per
// colouring: its name, its count in the natural order, and the fewest over ColPack's
// orderings. A Jacobian gets the partial distance-2 colourings of its columns and of its
// rows; a Hessian the distance-2 and the star colourings of its adjacency graph.
#include <ColPack/ColPackHeaders.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

using namespace ColPack;

static const char *const orderings[] = {"NATURAL", "LARGEST_FIRST", "SMALLEST_LAST",
                                        "INCIDENCE_DEGREE"};

// The pattern in ADOL-C's compressed rows: per row, its count, then its columns.
static unsigned int **compressed_rows(const std::vector<std::set<unsigned>> &rows)
{
    unsigned int **p = new unsigned int *[rows.size()];
    for (size_t i = 0; i < rows.size(); i++) {
        p[i] = new unsigned int[rows[i].size() + 1];
        p[i][0] = (unsigned)rows[i].size();
        unsigned k = 1;
        for (unsigned c : rows[i])
            p[i][k++] = c;
    }
    return p;
}

static void free_rows(unsigned int **p, int rows)
{
    for (int i = 0; i < rows; i++)
        delete[] p[i];
    delete[] p;
}

template <typename Colour>
static void report(const char *name, Colour colour)
{
    int natural = colour(orderings[0]), best = natural;
    for (const char *o : orderings) {
        int n = colour(o);
        best = n < best ? n : best;
    }
    std::printf("%s %d %d\n", name, natural, best);
}

int main()
{
    char kind;
    int rows, cols, nnz;
    if (std::scanf(" %c", &kind) != 1)
        return 2;
    if (kind == 'J' ? std::scanf("%d %d %d", &rows, &cols, &nnz) != 3 :
                      std::scanf("%d %d", &rows, &nnz) != 2)
        return 2;
    if (kind != 'J')
        cols = rows;
    std::vector<std::set<unsigned>> pattern(rows);
    for (int k = 0; k < nnz; k++) {
        unsigned i, j;
        if (std::scanf("%u %u", &i, &j) != 2)
            return 2;
        pattern[i].insert(j);
        if (kind != 'J')
            pattern[j].insert(i);
    }
    // a fresh copy of the pattern for each colouring: ColPack may reorder what it is given
    if (kind == 'J') {
        for (const char *variant : {"COLUMN_PARTIAL_DISTANCE_TWO", "ROW_PARTIAL_DISTANCE_TWO"})
            report(variant, [&](const char *ordering) {
                unsigned int **p = compressed_rows(pattern);
                BipartiteGraphPartialColoringInterface g(SRC_MEM_ADOLC, p, rows, cols);
                g.PartialDistanceTwoColoring(ordering, variant);
                free_rows(p, rows);
                return g.GetVertexColorCount();
            });
    } else {
        for (const char *variant : {"DISTANCE_TWO", "STAR"})
            report(variant, [&](const char *ordering) {
                unsigned int **p = compressed_rows(pattern);
                GraphColoringInterface g(SRC_MEM_ADOLC, p, rows);
                g.Coloring(ordering, variant);
                free_rows(p, rows);
                std::vector<int> colour; // distinct colours (the count of STAR is one more)
                g.GetVertexColors(colour);
                return (int)std::set<int>(colour.begin(), colour.end()).size();
            });
    }
    return 0;
}
