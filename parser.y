/*
 * parser.y: the grammar of the adgen language (README, "The input language"), building the
 * syntax tree of ast.c. A file is a list of items, each ended by a line break or ';':
 *   f(x, y) = expr           one-line definition
 *   g(x) { a = expr; return expr }   block definition with named intermediates
 *   inline h(x) = expr       a definition only inlined where it is called
 *   expr                     a bare expression (the whole file then is one function)
 * A definition's head is parsed as a call and checked to hold plain names, which keeps the
 * grammar LALR(1) without a conflict between `f(x) = ...` and an expression starting `f(x)`.
 */

%code requires {
#include "adgen.h"
/* flex declares it under the same guard */
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

typedef struct { Ast *head, *tail; int n, ndiff; } AstList;
typedef struct { Stmt *head, *tail; } StmtList;

/* Spans run from the first symbol's start to the last one's end; an empty rule sits at the
 * end of what precedes it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                  \
    do {                                                             \
        if (N) {                                                     \
            (Cur).first_line = YYRHSLOC(Rhs, 1).first_line;          \
            (Cur).first_column = YYRHSLOC(Rhs, 1).first_column;      \
            (Cur).begin = YYRHSLOC(Rhs, 1).begin;                    \
            (Cur).end = YYRHSLOC(Rhs, N).end;                        \
        } else {                                                     \
            (Cur).first_line = YYRHSLOC(Rhs, 0).first_line;          \
            (Cur).first_column = YYRHSLOC(Rhs, 0).first_column;      \
            (Cur).begin = (Cur).end = YYRHSLOC(Rhs, 0).end;          \
        }                                                            \
    } while (0)
}

%code {
#include <string.h>

int yylex(YYSTYPE *lval, Loc *lloc, yyscan_t scanner);
static void yyerror(Loc *loc, yyscan_t scanner, Parse *ps, const char *msg);
static void add_def(Parse *ps, Def *d);
static void add_const(Parse *ps, Loc loc, const char *name, Ast *expr);
static Stmt *new_stmt(Parse *ps, StmtKind kind, Loc loc);
static Ast *new_cmp(Parse *ps, Loc loc, int op, Ast *lhs, Ast *rhs);
static void join_args(AstList *l, AstList *more);
static Def *new_def(Parse *ps, Loc loc, Ast *head);
static void add_arg(AstList *l, Ast *a);

/* Deep nesting is legal input: let bison's heap-allocated stack grow far. */
#define YYMAXDEPTH 10000000

/* Past bison's first stacks, they take at once as many elements as the input has bytes (up
 * to STACK_AHEAD), more than its nesting can use (an element per open parenthesis at most),
 * which costs address space only: bison's own growth, by doubling into fresh memory and
 * copying, took most of the page faults of a 10^6-deep chain of calls. They double beyond
 * that; parse_source frees them. */
#define STACK_AHEAD ((YYPTRDIFF_T)1 << 22) /* elements: 170 MB of address space */
static void *stack_grow(Parse *ps, int k, void *old, size_t used, size_t bytes);
#define STACK_DEPTH(depth)                                                                 \
    ((depth) < (YYPTRDIFF_T)ps->diag->len + 16 && (depth) < STACK_AHEAD ?                  \
     ((YYPTRDIFF_T)ps->diag->len + 16 < STACK_AHEAD ? (YYPTRDIFF_T)ps->diag->len + 16 :      \
      STACK_AHEAD) : 2 * (depth))
#define yyoverflow(msg, ss, ssize, vs, vsize, ls, lsize, depth)                            \
    do {                                                                                   \
        (void)(msg);                                                                       \
        if (*(depth) >= YYMAXDEPTH)                                                        \
            YYNOMEM;                                                                       \
        *(depth) = STACK_DEPTH(*(depth)) < YYMAXDEPTH ? STACK_DEPTH(*(depth)) : YYMAXDEPTH; \
        *(ss) = stack_grow(ps, 0, *(ss), (size_t)(ssize), (size_t)*(depth) * sizeof **(ss)); \
        *(vs) = stack_grow(ps, 1, *(vs), (size_t)(vsize), (size_t)*(depth) * sizeof **(vs)); \
        *(ls) = stack_grow(ps, 2, *(ls), (size_t)(lsize), (size_t)*(depth) * sizeof **(ls)); \
    } while (0)
}

/* reentrant: no globals, several parses per process (tests, later an API) */
%define api.pure full
/* TOK_ prefix keeps token names out of the C namespace of the rest of adgen */
%define api.token.prefix {TOK_}
/* our Loc carries byte offsets too, for carets and for quoting the source in comments */
%define api.location.type {Loc}
%locations
/* messages in adgen's words: "expected ..., found ..." */
%define parse.error custom
/* exact expected-token lists, not ones widened by default reductions */
%define parse.lac full
/* YYNOMEM in yyoverflow above */
%require "3.8"
/* the grammar is conflict-free; any new conflict must be explained */
%expect 0
/* the scanner goes to both yylex and yyparse; the parse state only to yyparse */
%param {yyscan_t scanner}
%parse-param {Parse *ps}

%union {
    double num;
    const char *id;
    Ast *ast;
    AstList list;
    StmtList stmts;
    Stmt *stmt;
    Def *def;
}

%token END 0 "end of file"
%token <num> NUMBER "number"
%token <id> IDENT "identifier"
%token RETURN "'return'"
%token INLINE "'inline'"
%token NEWLINE "end of line"
%token POW "'^'"
%token DOTDOT "'..'"
%token LE "'<='"
%token GE "'>='"
%token EQ "'=='"
%token NE "'!='"
%token AND "'&&'"
%token OR "'||'"
%token NOT "'!'"

%left OR
%left AND
%nonassoc '<' '>' LE GE EQ NE
%left '+' '-'
%left '*' '/'

%type <ast> expr unary power primary call arg
%type <list> args arglist indices
%type <stmts> blines body
%type <stmt> stmt
%type <def> item def

%%

file:
    %empty
  | file line
  ;

line:
    end
  | item end            { add_def(ps, $1); }
  ;

end: NEWLINE | ';' ;

item:
    IDENT '=' expr      { add_const(ps, @$, $1, $3); $$ = NULL; }
  | def
  | INLINE def          { /* only inlined where it is called: no C function of its own */
                            $$ = $2;
                            if ($$) {
                                $$->inline_only = 1;
                                $$->loc = @$;
                            }
                        }
  | expr                {
                            $$ = arena_alloc(ps->arena, sizeof *$$);
                            $$->loc = @$;
                            $$->expr = $1;
                            $$->bare = 1;
                        }
  ;

def:
    call '=' expr       { $$ = new_def(ps, @$, $1); if ($$) $$->expr = $3; }
  | call '{' body '}'   {
                            $$ = new_def(ps, @$, $1);
                            if ($$) {
                                $$->body = $3.head;
                                $$->close_loc = @4;
                            }
                        }
  ;

body:
    blines
  | blines stmt         {
                            $$ = $1;
                            if ($$.tail)
                                $$.tail->next = $2;
                            else
                                $$.head = $2;
                            $$.tail = $2;
                        }
  ;

blines:
    %empty              { $$.head = $$.tail = NULL; }
  | blines end
  | blines stmt end     {
                            $$ = $1;
                            if ($$.tail)
                                $$.tail->next = $2;
                            else
                                $$.head = $2;
                            $$.tail = $2;
                        }
  ;

stmt:
    IDENT '=' expr      {
                            $$ = new_stmt(ps, S_ASSIGN, @$);
                            $$->name = $1;
                            $$->name_loc = @1;
                            $$->expr = $3;
                        }
  | IDENT indices '=' expr {
                            $$ = new_stmt(ps, S_ELEM, @$);
                            $$->name = $1;
                            $$->name_loc = @1;
                            $$->index = $2.head;
                            $$->nindex = $2.n;
                            $$->expr = $4;
                        }
  | RETURN expr         {
                            $$ = new_stmt(ps, S_RETURN, @$);
                            $$->expr = $2;
                        }
    /* `for` is no keyword, so that v1 programs may keep it as a name */
  | IDENT IDENT '=' expr DOTDOT expr '{' body '}' {
                            $$ = NULL;
                            if (strcmp($1, "for") != 0) {
                                diag_error(ps->diag, @1, "expected a statement, found '%s' "
                                           "(a loop starts with 'for')", $1);
                                YYERROR;
                            }
                            $$ = new_stmt(ps, S_FOR, @$);
                            $$->name = $2;
                            $$->name_loc = @2;
                            $$->from = $4;
                            $$->to = $6;
                            $$->body = $8.head;
                        }
  ;

indices:
    '[' expr ']'        { $$.head = $$.tail = NULL; $$.n = 0; add_arg(&$$, $2); }
  | indices '[' expr ']' { $$ = $1; add_arg(&$$, $3); }
  ;

expr:
    expr OR expr        { $$ = ast_binary(ps, A_OR, @$, $1, $3); }
  | expr AND expr       { $$ = ast_binary(ps, A_AND, @$, $1, $3); }
  | expr '<' expr       { $$ = new_cmp(ps, @$, N_LT, $1, $3); }
  | expr '>' expr       { $$ = new_cmp(ps, @$, N_GT, $1, $3); }
  | expr LE expr        { $$ = new_cmp(ps, @$, N_LE, $1, $3); }
  | expr GE expr        { $$ = new_cmp(ps, @$, N_GE, $1, $3); }
  | expr EQ expr        { $$ = new_cmp(ps, @$, N_EQ, $1, $3); }
  | expr NE expr        { $$ = new_cmp(ps, @$, N_NE, $1, $3); }
  | expr '+' expr       { $$ = ast_binary(ps, A_ADD, @$, $1, $3); }
  | expr '-' expr       { $$ = ast_binary(ps, A_SUB, @$, $1, $3); }
  | expr '*' expr       { $$ = ast_binary(ps, A_MUL, @$, $1, $3); }
  | expr '/' expr       { $$ = ast_binary(ps, A_DIV, @$, $1, $3); }
  | unary
  ;

/* '^' binds tighter than unary minus (-x^2 is -(x^2)) and its right operand may carry a
 * sign (2^-x); right recursion through unary makes it right-associative. */
unary:
    '-' unary           { $$ = ast_binary(ps, A_NEG, @$, $2, NULL); }
  | '+' unary           { $$ = ast_binary(ps, A_POS, @$, $2, NULL); }
  | NOT unary           { $$ = ast_binary(ps, A_NOT, @$, $2, NULL); }
  | power
  ;

power:
    primary
  | primary POW unary   { $$ = ast_binary(ps, A_POW, @$, $1, $3); }
  ;

primary:
    NUMBER              { $$ = ast_new(ps, A_NUM, @$); $$->num = $1; }
  | IDENT               { $$ = ast_new(ps, A_VAR, @$); $$->name = $1; }
  | IDENT indices       {
                            $$ = ast_new(ps, A_INDEX, @$);
                            $$->name = $1;
                            $$->args = $2.head;
                            $$->nargs = $2.n;
                        }
  | call
  | call indices        { /* one of the values of a definition returning several */
                            $$ = ast_new(ps, A_INDEX, @$);
                            $$->lhs = $1;
                            $$->args = $2.head;
                            $$->nargs = $2.n;
                        }
  | '(' expr ')'        { $$ = $2; }
  | '[' arglist ']'     {
                            $$ = ast_new(ps, A_LIST, @$);
                            $$->args = $2.head;
                            $$->nargs = $2.n;
                        }
  ;

call:
    IDENT '(' args ')'  {
                            $$ = ast_new(ps, A_CALL, @$);
                            $$->name = $1;
                            $$->args = $3.head;
                            $$->nargs = $3.n;
                            $$->ndiff = $3.ndiff;
                        }
  ;

/* A ';' separates a definition's differentiated inputs from its data inputs. */
args:
    %empty              { $$.head = $$.tail = NULL; $$.n = 0; $$.ndiff = -1; }
  | arglist             { $$ = $1; $$.ndiff = -1; }
  | arglist ';'         { $$ = $1; $$.ndiff = $1.n; }
  | ';' arglist         { $$ = $2; $$.ndiff = 0; }
  | arglist ';' arglist { $$ = $1; $$.ndiff = $1.n; join_args(&$$, &$3); }
  ;

arglist:
    arg                 { $$.head = $$.tail = NULL; $$.n = 0; add_arg(&$$, $1); }
  | arglist ',' arg     { $$ = $1; add_arg(&$$, $3); }
  ;

/* the first argument of sum and prod: i = a..b */
arg:
    expr
  | IDENT '=' expr DOTDOT expr {
                            $$ = ast_binary(ps, A_RANGE, @$, $3, $5);
                            $$->name = $1;
                        }
  ;

%%

/* Stack k of the parser grown to `bytes`, `used` of them in use: the first time moved off the
 * arrays yyparse starts with, then reallocated. */
static void *stack_grow(Parse *ps, int k, void *old, size_t used, size_t bytes)
{
    if (old == ps->stack[k])
        return ps->stack[k] = xrealloc(old, bytes);
    ps->stack[k] = xrealloc(NULL, bytes);
    memcpy(ps->stack[k], old, used);
    return ps->stack[k];
}

static void join_args(AstList *l, AstList *more)
{
    if (!more->head)
        return;
    if (l->tail)
        l->tail->next = more->head;
    else
        l->head = more->head;
    l->tail = more->tail;
    l->n += more->n;
}

static Stmt *new_stmt(Parse *ps, StmtKind kind, Loc loc)
{
    Stmt *s = arena_alloc(ps->arena, sizeof *s);
    s->kind = kind;
    s->loc = loc;
    return s;
}

static Ast *new_cmp(Parse *ps, Loc loc, int op, Ast *lhs, Ast *rhs)
{
    Ast *a = ast_binary(ps, A_CMP, loc, lhs, rhs);
    a->op = op;
    return a;
}

static void add_const(Parse *ps, Loc loc, const char *name, Ast *expr)
{
    Const *c = arena_alloc(ps->arena, sizeof *c);
    c->name = name;
    c->loc = loc;
    c->expr = expr;
    if (ps->last_const)
        ps->last_const->next = c;
    else
        ps->consts = c;
    ps->last_const = c;
}

static void add_arg(AstList *l, Ast *a)
{
    if (l->tail)
        l->tail->next = a;
    else
        l->head = a;
    l->tail = a;
    l->n++;
}

/* A definition head `name(p1, ..., pn)` or `name(p1, ...; d1, ...)`: the call's arguments
 * must be names, or names with sizes (x[N], A[M][N]). */
static Def *new_def(Parse *ps, Loc loc, Ast *head)
{
    for (Ast *a = head->args; a; a = a->next) {
        if (a->kind != A_VAR && (a->kind != A_INDEX || a->lhs)) {
            diag_error(ps->diag, a->loc, "expected an input name in the definition of '%s'",
                       head->name);
            return NULL;
        }
    }
    Def *d = arena_alloc(ps->arena, sizeof *d);
    d->loc = loc;
    d->name = head->name;
    d->name_loc = head->loc;
    d->name_loc.end = d->name_loc.begin + strlen(head->name);
    d->params = head->args;
    d->nparams = head->nargs;
    d->ndiff = head->ndiff < 0 ? head->nargs : head->ndiff;
    return d;
}

static void add_def(Parse *ps, Def *d)
{
    if (!d)
        return;
    if (ps->last)
        ps->last->next = d;
    else
        ps->defs = d;
    ps->last = d;
}

static void yyerror(Loc *loc, yyscan_t scanner, Parse *ps, const char *msg)
{
    (void)scanner;
    if (strcmp(msg, "memory exhausted") == 0)
        diag_error(ps->diag, *loc, "expression nested too deeply");
    else
        diag_error(ps->diag, *loc, "%s", msg);
}

/* A token's name for messages: string aliases lose their quotes. */
static void put_symbol(Buf *b, yysymbol_kind_t sym)
{
    const char *name = yysymbol_name(sym);
    size_t n = strlen(name);
    if (n >= 2 && name[0] == '"')
        buf_putn(b, name + 1, n - 2);
    else
        buf_putn(b, name, n);
}

/* The binary operators, named once as "operator" where any of them may come. */
static int is_operator(yysymbol_kind_t s)
{
    static const char *const ops[] = {"'^'", "'<='", "'>='", "'=='", "'!='", "'&&'", "'||'",
                                      "'<'", "'>'", "'+'", "'-'", "'*'", "'/'"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strcmp(yysymbol_name(s), ops[i]) == 0)
            return 1;
    return 0;
}

static int is_expr_start(yysymbol_kind_t s)
{
    const char *name = yysymbol_name(s);
    return s == YYSYMBOL_NUMBER || s == YYSYMBOL_IDENT || s == YYSYMBOL_NOT ||
           strcmp(name, "'('") == 0 || strcmp(name, "'-'") == 0 || strcmp(name, "'+'") == 0 ||
           strcmp(name, "'['") == 0;
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, Parse *ps)
{
    (void)scanner;
    enum { MAX = 24 };
    yysymbol_kind_t expected[MAX];
    int n = yypcontext_expected_tokens(ctx, expected, MAX);
    if (n < 0)
        n = 0;
    Buf b = {0};
    /* An expression can start with seven tokens; name them once as "expression". */
    int want_expr = 0;
    for (int i = 0; i < n; i++)
        if (expected[i] == YYSYMBOL_NUMBER)
            want_expr = 1;
    int m = 0, want_operator = 0;
    for (int i = 0; i < n; i++) {
        if (want_expr && is_expr_start(expected[i]))
            continue;
        if (!want_expr && is_operator(expected[i]))
            want_operator = 1;
        else
            expected[m++] = expected[i];
    }
    int named = want_expr + want_operator, items = m + named;
    if (items > 0)
        buf_printf(&b, "expected ");
    for (int i = 0; i < items; i++) {
        if (i > 0)
            buf_printf(&b, i == items - 1 ? " or " : ", ");
        if (i < named)
            buf_printf(&b, want_expr ? "expression" : "operator");
        else
            put_symbol(&b, expected[i - named]);
    }
    const Loc *loc = yypcontext_location(ctx);
    yysymbol_kind_t found = yypcontext_token(ctx);
    /* the input ended after an operator that wants an operand: point at the operator */
    if (found == YYSYMBOL_YYEOF && ps->paren_depth == 0 && ps->last_loc.end > 0 &&
        ps->last_token != TOK_NEWLINE) {
        loc = &ps->last_loc;
        buf_printf(&b, " after '%.*s'", (int)(loc->end - loc->begin),
                   ps->diag->src + loc->begin);
    }
    buf_printf(&b, items > 0 ? ", found " : "unexpected ");
    put_symbol(&b, found);
    if (found == YYSYMBOL_IDENT || found == YYSYMBOL_NUMBER)
        buf_printf(&b, " '%.*s'", (int)(loc->end - loc->begin), ps->diag->src + loc->begin);
    diag_error(ps->diag, *loc, "%s", b.data);
    if (found == YYSYMBOL_YYEOF && ps->paren_depth > 0)
        diag_note(ps->diag, ps->parens[ps->paren_depth - 1], "to match this '('");
    buf_free(&b);
    return 0;
}
