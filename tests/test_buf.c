/* test_buf.c: the text the emitters are built of. buf_printf formats the common conversions
 * itself and must write what the C library writes; put_real must print the shortest "%.*g"
 * form of a constant that reads back, which a plain linear search over the precisions finds
 * here independently. */
#include <limits.h>

#include "testutil.h"

/* buf_printf and snprintf on the same format and arguments. */
#define assert_formats_as_snprintf(...)                      \
    do {                                                     \
        Buf b_ = {0};                                        \
        char want_[512];                                     \
        snprintf(want_, sizeof want_, __VA_ARGS__);          \
        buf_printf(&b_, __VA_ARGS__);                        \
        assert_string_equal(b_.data, want_);                 \
        assert_int_equal(b_.len, strlen(want_));             \
        buf_free(&b_);                                       \
    } while (0)

static void test_buf_plain_conversions_match_snprintf(void **state)
{
    (void)state;
    assert_formats_as_snprintf("%s", "");
    assert_formats_as_snprintf("plain text, no conversion");
    assert_formats_as_snprintf("    const double %s = %s * %s;\n", "t1", "x", "y");
    assert_formats_as_snprintf("%c%c%%%c", 'a', '"', 'z');
    assert_formats_as_snprintf("%d %d %d %d", 0, -1, INT_MAX, INT_MIN);
    assert_formats_as_snprintf("%u %u", 0u, UINT_MAX);
    assert_formats_as_snprintf("#line %ld \"%s\"\n", 12345678L, "a.expr");
    assert_formats_as_snprintf("%ld %ld %lu", LONG_MIN, LONG_MAX, ULONG_MAX);
    assert_formats_as_snprintf("%lld|%lld|%llu", LLONG_MIN, LLONG_MAX, ULLONG_MAX);
    assert_formats_as_snprintf("w[%zu] %zu", (size_t)0, SIZE_MAX);
    assert_formats_as_snprintf("%s%u_bar%s", "t", 42u, "");
    /* conversions it leaves to the C library */
    assert_formats_as_snprintf("%-12s|%10u|%.3g|%03o|%.*s", "x", 7u, 0.1, 8, 2, "abc");
    assert_formats_as_snprintf("%d %.17g %s", 3, 0.1, "end");
}

static void test_buf_grows_across_many_writes(void **state)
{
    (void)state;
    Buf b = {0};
    for (int i = 0; i < 10000; i++)
        buf_printf(&b, "%d,", i);
    char want[16];
    snprintf(want, sizeof want, "%d,", 9999);
    assert_int_equal(b.len, strlen(b.data));
    assert_string_equal(b.data + b.len - strlen(want), want);
    assert_memory_equal(b.data, "0,1,2,3,", 8);
    buf_free(&b);
}

/* The shortest "%.*g" text of v that reads back, with '.0' where C needs it, by trying every
 * precision from 1 up. */
static void reference_real(char *s, size_t size, double v, RealType real)
{
    char t[64];
    int p = 1;
    for (; p < 17; p++) {
        snprintf(t, sizeof t, "%.*g", p, v);
        if (real == REAL_FLOAT ? strtof(t, NULL) == (float)v : strtod(t, NULL) == v)
            break;
    }
    snprintf(t, sizeof t, "%.*g", p, v);
    snprintf(s, size, "%s%s%s", t, strpbrk(t, ".e") ? "" : ".0", literal_suffix[real]);
}

static void check_real(double v, RealType real)
{
    if (real == REAL_FLOAT)
        v = (float)v;
    if (!isfinite(v) || (v == floor(v) && fabs(v) < 1e15))
        return; /* infinities and whole numbers have their own forms, tested below */
    char want[80];
    reference_real(want, sizeof want, v, real);
    Buf b = {0};
    put_real(&b, v, real);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void test_numbers_shortest_form_reads_back(void **state)
{
    (void)state;
    static const double fixed[] = {
        0.1, 0.5, -0.3, 1.0 / 3, 2.0 / 3, 0.1 + 0.2, 1e-5, 1.5e-300, 4.9e-324, 2.2e-308,
        1e300, 1.7976931348623157e308, 1e15 + 0.5, 1e16, 123456789012345678.0, 3.14159265358979,
        9.999999999999999e22, 5e-324, 2.2250738585072014e-308, 0.30000000000000004,
        0.693147180559945309, 1.1283791670955126, 100.25, -7.8125e-3,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        for (int r = REAL_DOUBLE; r <= REAL_LONG_DOUBLE; r++)
            check_real(fixed[i], (RealType)r);
    /* random bit patterns (every exponent) and short decimals, as sources spell them */
    uint64_t z = 12345;
    for (int i = 0; i < 100000; i++) {
        z = z * 6364136223846793005u + 1442695040888963407u;
        double v;
        uint64_t bits = z ^ (z >> 29);
        memcpy(&v, &bits, sizeof v);
        check_real(v, i % 3 == 1 ? REAL_FLOAT : REAL_DOUBLE);
        check_real((double)(z >> 40) / 1e6, REAL_DOUBLE);
        check_real((double)(z >> 44) * 1e-9, i % 2 ? REAL_FLOAT : REAL_DOUBLE);
    }
}

static void test_numbers_whole_numbers_plain(void **state)
{
    (void)state;
    static const struct {
        double v;
        RealType real;
        const char *text;
    } cases[] = {
        {0.0, REAL_DOUBLE, "0.0"},
        {-0.0, REAL_DOUBLE, "-0.0"},
        {2.0, REAL_DOUBLE, "2.0"},
        {-100.0, REAL_FLOAT, "-100.0f"},
        {1e14, REAL_LONG_DOUBLE, "100000000000000.0L"},
        {999999999999999.0, REAL_DOUBLE, "999999999999999.0"},
        {1e15, REAL_DOUBLE, "1e+15"},
        {1e300, REAL_FLOAT, "HUGE_VALF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Buf b = {0};
        put_real(&b, cases[i].v, cases[i].real);
        assert_string_equal(b.data, cases[i].text);
        buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_plain_conversions_match_snprintf),
        cmocka_unit_test(test_buf_grows_across_many_writes),
        cmocka_unit_test(test_numbers_shortest_form_reads_back),
        cmocka_unit_test(test_numbers_whole_numbers_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
