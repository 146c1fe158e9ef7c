/* test_lexer.c: tokens, values, locations and lexical errors of lexer.l. */
#include "testutil.h"

#include "parser.h"
#include "lexer.h"

typedef struct {
    Arena arena;
    Diag diag;
    Parse parse;
    yyscan_t scanner;
    YY_BUFFER_STATE buffer;
    char *messages;
    size_t messages_len;
} Lexer;

static void lex_open(Lexer *L, const char *src)
{
    memset(L, 0, sizeof *L);
    L->diag.file = "t.expr";
    L->diag.src = src;
    L->diag.len = strlen(src);
    L->diag.out = open_memstream(&L->messages, &L->messages_len);
    L->parse.arena = &L->arena;
    L->parse.diag = &L->diag;
    L->parse.names = intern_new();
    L->parse.line = L->parse.column = 1;
    assert_int_equal(yylex_init_extra(&L->parse, &L->scanner), 0);
    L->buffer = yy_scan_bytes(src, (int)strlen(src), L->scanner);
}

static void lex_close(Lexer *L)
{
    yy_delete_buffer(L->buffer, L->scanner);
    yylex_destroy(L->scanner);
    free(L->parse.parens); /* parse_source frees it after a parse; here the test drives yylex */
    fclose(L->diag.out);
    free(L->messages);
    intern_free(L->parse.names);
    arena_free(&L->arena);
}

static int next(Lexer *L, YYSTYPE *v, Loc *loc)
{
    return yylex(v, loc, L->scanner);
}

static void test_lexer_numbers(void **state)
{
    (void)state;
    static const double expected[] = {3, 3, .5, 1.5e-3, 2e4, 0.1, 4.9406564584124654e-324};
    Lexer L;
    lex_open(&L, "3 3. .5 1.5e-3 2E+4 0.1 4.9406564584124654e-324");
    YYSTYPE v;
    Loc loc;
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        assert_int_equal(next(&L, &v, &loc), TOK_NUMBER);
        assert_true(v.num == expected[i]);
    }
    assert_int_equal(next(&L, &v, &loc), TOK_NEWLINE);
    assert_int_equal(next(&L, &v, &loc), TOK_END);
    assert_int_equal(L.diag.errors, 0);
    lex_close(&L);
}

static void test_lexer_operators_and_power_spellings(void **state)
{
    (void)state;
    static const int expected[] = {TOK_POW, TOK_POW, '+', '-', '*', '/', '(', ')', '{', '}',
                                   ',', '=', ';', TOK_RETURN, TOK_IDENT, TOK_NEWLINE, TOK_END};
    Lexer L;
    lex_open(&L, "^ ** + - * / ( ) { } , = ; return returned");
    YYSTYPE v;
    Loc loc;
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        assert_int_equal(next(&L, &v, &loc), expected[i]);
    lex_close(&L);
}

static void test_lexer_identifiers_interned(void **state)
{
    (void)state;
    Lexer L;
    lex_open(&L, "alpha beta alpha");
    YYSTYPE a, b, c;
    Loc loc;
    assert_int_equal(next(&L, &a, &loc), TOK_IDENT);
    assert_int_equal(next(&L, &b, &loc), TOK_IDENT);
    assert_int_equal(next(&L, &c, &loc), TOK_IDENT);
    assert_string_equal(a.id, "alpha");
    assert_ptr_equal(a.id, c.id);
    assert_ptr_not_equal(a.id, b.id);
    lex_close(&L);
}

static void test_lexer_newlines_comments_and_parentheses(void **state)
{
    (void)state;
    /* a line break inside parentheses continues the expression; comments vanish; the end
     * of the input without a final newline still ends the line once */
    static const int expected[] = {TOK_NEWLINE, TOK_IDENT, '(', TOK_IDENT, '+', TOK_IDENT, ')',
                                   TOK_NEWLINE, TOK_IDENT, TOK_NEWLINE, TOK_END};
    Lexer L;
    lex_open(&L, "# comment only\nf(x +\n  y) # trailing\r\nz");
    YYSTYPE v;
    Loc loc;
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        assert_int_equal(next(&L, &v, &loc), expected[i]);
    lex_close(&L);
}

static void test_lexer_locations(void **state)
{
    (void)state;
    Lexer L;
    lex_open(&L, "f(x) = x\n  sqrt(x)");
    YYSTYPE v;
    Loc loc;
    for (int i = 0; i < 7; i++) /* f ( x ) = x NEWLINE */
        next(&L, &v, &loc);
    assert_int_equal(next(&L, &v, &loc), TOK_IDENT);
    assert_int_equal(loc.first_line, 2);
    assert_int_equal(loc.first_column, 3);
    assert_int_equal(loc.begin, 11);
    assert_int_equal(loc.end, 15);
    lex_close(&L);
}

static void expect_lex_error(const char *src, const char *message)
{
    Lexer L;
    lex_open(&L, src);
    YYSTYPE v;
    Loc loc;
    int tok;
    while ((tok = next(&L, &v, &loc)) != TOK_END && tok != TOK_YYerror)
        ;
    assert_int_equal(tok, TOK_YYerror);
    assert_int_equal(L.diag.errors, 1);
    fflush(L.diag.out);
    assert_non_null(strstr(L.messages, message));
    lex_close(&L);
}

static void test_lexer_errors(void **state)
{
    (void)state;
    expect_lex_error("x @ y", "t.expr:1:3: error: invalid character '@'");
    expect_lex_error("x\n\xc3\xa9", "t.expr:2:1: error: invalid character '\xc3\xa9' (U+00E9)");
    expect_lex_error("1e999", "t.expr:1:1: error: number '1e999' is out of the range of a double");
    expect_lex_error("1e-999", "number '1e-999' is out of the range of a double");
    expect_lex_error("y = 0x1p3", "t.expr:1:5: error: invalid number '0x1p3'");
    expect_lex_error("2x", "invalid number '2x'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexer_numbers),
        cmocka_unit_test(test_lexer_operators_and_power_spellings),
        cmocka_unit_test(test_lexer_identifiers_interned),
        cmocka_unit_test(test_lexer_newlines_comments_and_parentheses),
        cmocka_unit_test(test_lexer_locations),
        cmocka_unit_test(test_lexer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
