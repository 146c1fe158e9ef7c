/*
 * ops.h: the one table of operations. Every fact about a kind of node is one row here; the
 * enum, sema's function names, the interpreter, folding, printing (C, --explain's LaTeX), the
 * cost weights, and what --report and `adgen check` know of kinks and domain edges are made
 * from it, and the derivative rule of kind K is the function rule_K of deriv.c, which the
 * table names by pasting: a row without its rule does not compile. Code that treats kinds
 * apart reads these columns, or switches with every case (over the kinds, as eval.c's
 * independent rules, or over OpForm, OpEdge, OpKink), never with a default: so no kind is
 * missed in silence.
 *
 * Columns:
 *   kind   the enum member is N_<kind>
 *   lang   the name in the input language, or NULL for an operator or an internal kind
 *   ar     arity (operands a, b, c)
 *   c      the C spelling: an operator, the <math.h> name that --real suffixes (sinf, sinl),
 *          or a template, a C expression of the operand '@' (OpForm in adgen.h)
 *   form   how C writes it (F_CALL name(a, b), F_ADD/F_MUL infix at that precedence, F_NEG
 *          prefix minus, F_CMP a comparison, F_LOGIC && or ||, F_NOT !, F_IF a selection,
 *          F_TEMPLATE the template, F_LEAF none)
 *   fold   folding a constant operation is exact (correctly rounded in any C implementation)
 *   cost   a weight for reports: what one evaluation costs against an addition
 *   lin    every term of its derivative is the incoming adjoint or tangent x, -x, x/2 or 0,
 *          chosen by tests: never x times a computed partial, so it needs no strong-zero guard
 *   value  the interpreter's value of the operation on operands a, b, c
 *   word   a name for a kind the language has none for: --report lists it beside the C
 *          operator (add (+)), --explain writes a selection as a call of it (if(c, a, b));
 *          NULL where the C operator alone names it (the comparisons)
 *   tex    how LaTeX writes it (--explain=latex): a function's command, or NULL for
 *          \operatorname; a comparison's or logic operation's operator
 *   edge   where its derivative is infinite or undefined, as `adgen check` measures an
 *          operand's distance to it (OpEdge in adgen.h; EDGE_NONE where it measures none)
 *   kink   where it has a kink, a jump or a branch switch, as check tells its sides apart
 *          (OpKink in adgen.h)
 *   note   what --report and check say of such a place, or NULL; report.c has the one of a
 *          power with a constant exponent, and none for a constant divisor or base
 */
#ifndef ADGEN_OPS_H
#define ADGEN_OPS_H

#define OPS(X)                                                                                \
    /* kind  lang     ar c        form    fold cost lin value                                 \
     *   word tex edge kink note */                                                           \
    X(NONE,  NULL,    0, "?",     F_LEAF, 0,   0,  1,  NAN,                                   \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(CONST, NULL,    0, "const", F_LEAF, 0,   0,  1,  NAN,                                   \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(INPUT, NULL,    0, "input", F_LEAF, 0,   0,  1,  NAN,                                   \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(NEG,   NULL,    1, "-",     F_NEG,  1,   1,  1,  -a,                                    \
      "neg", NULL, EDGE_NONE, KINK_NONE, NULL)                                                \
    X(SIN,   "sin",   1, "sin",   F_CALL, 0,   20,  0,  sin(a),                               \
      NULL, "\\sin", EDGE_NONE, KINK_NONE, NULL)                                              \
    X(COS,   "cos",   1, "cos",   F_CALL, 0,   20,  0,  cos(a),                               \
      NULL, "\\cos", EDGE_NONE, KINK_NONE, NULL)                                              \
    X(TAN,   "tan",   1, "tan",   F_CALL, 0,   25,  0,  tan(a),                               \
      NULL, "\\tan", EDGE_NONE, KINK_NONE,                                                    \
      "tan: infinite where the cosine of its argument is 0")                                  \
    X(ASIN,  "asin",  1, "asin",  F_CALL, 0,   25,  0,  asin(a),                              \
      NULL, "\\arcsin", EDGE_UNIT, KINK_NONE,                                                 \
      "asin/acos: derivative infinite where the argument is -1 or 1, undefined beyond")       \
    X(ACOS,  "acos",  1, "acos",  F_CALL, 0,   25,  0,  acos(a),                              \
      NULL, "\\arccos", EDGE_UNIT, KINK_NONE,                                                 \
      "asin/acos: derivative infinite where the argument is -1 or 1, undefined beyond")       \
    X(ATAN,  "atan",  1, "atan",  F_CALL, 0,   25,  0,  atan(a),                              \
      NULL, "\\arctan", EDGE_NONE, KINK_NONE, NULL)                                           \
    X(SINH,  "sinh",  1, "sinh",  F_CALL, 0,   25,  0,  sinh(a),                              \
      NULL, "\\sinh", EDGE_NONE, KINK_NONE, NULL)                                             \
    X(COSH,  "cosh",  1, "cosh",  F_CALL, 0,   25,  0,  cosh(a),                              \
      NULL, "\\cosh", EDGE_NONE, KINK_NONE, NULL)                                             \
    X(TANH,  "tanh",  1, "tanh",  F_CALL, 0,   25,  0,  tanh(a),                              \
      NULL, "\\tanh", EDGE_NONE, KINK_NONE, NULL)                                             \
    X(EXP,   "exp",   1, "exp",   F_CALL, 0,   20,  0,  exp(a),                               \
      NULL, "\\exp", EDGE_NONE, KINK_NONE, NULL)                                              \
    X(LOG,   "log",   1, "log",   F_CALL, 0,   20,  0,  log(a),                               \
      NULL, "\\log", EDGE_ZERO, KINK_NONE,                                                    \
      "log: undefined where its argument is <= 0 (derivative infinite at 0)")                 \
    X(SQRT,  "sqrt",  1, "sqrt",  F_CALL, 1,   6,  0,  sqrt(a),                               \
      NULL, NULL, EDGE_ZERO, KINK_NONE,                                                       \
      "sqrt: derivative infinite where its argument is 0, undefined below")                   \
    X(ABS,   "abs",   1, "fabs",  F_CALL, 1,   1,  1,  fabs(a),                               \
      NULL, NULL, EDGE_NONE, KINK_SIGN,                                                       \
      "abs: kink at 0 (the derivative there is taken as 0)")                                  \
    X(ASINH, "asinh", 1, "asinh", F_CALL, 0,   30,  0,  asinh(a),                             \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(ACOSH, "acosh", 1, "acosh", F_CALL, 0,   30,  0,  acosh(a),                             \
      NULL, NULL, EDGE_ONE, KINK_NONE,                                                        \
      "acosh: derivative infinite where its argument is 1, undefined below")                  \
    X(ATANH, "atanh", 1, "atanh", F_CALL, 0,   30,  0,  atanh(a),                             \
      NULL, NULL, EDGE_UNIT, KINK_NONE, "atanh: infinite where its argument is -1 or 1")      \
    X(EXPM1, "expm1", 1, "expm1", F_CALL, 0,   20,  0,  expm1(a),                             \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(LOG1P, "log1p", 1, "log1p", F_CALL, 0,   20,  0,  log1p(a),                             \
      NULL, NULL, EDGE_MINUS_ONE, KINK_NONE, "log1p: undefined where its argument is <= -1")  \
    X(LOG2,  "log2",  1, "log2",  F_CALL, 0,   20,  0,  log2(a),                              \
      NULL, NULL, EDGE_ZERO, KINK_NONE,                                                       \
      "log: undefined where its argument is <= 0 (derivative infinite at 0)")                 \
    X(LOG10, "log10", 1, "log10", F_CALL, 0,   20,  0,  log10(a),                             \
      NULL, NULL, EDGE_ZERO, KINK_NONE,                                                       \
      "log: undefined where its argument is <= 0 (derivative infinite at 0)")                 \
    X(CBRT,  "cbrt",  1, "cbrt",  F_CALL, 0,   20,  0,  cbrt(a),                              \
      NULL, NULL, EDGE_ZERO, KINK_NONE, "cbrt: derivative infinite where its argument is 0")  \
    X(ERF,   "erf",   1, "erf",   F_CALL, 0,   25,  0,  erf(a),                               \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(ERFC,  "erfc",  1, "erfc",  F_CALL, 0,   25,  0,  erfc(a),                              \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    /* steps: flat wherever they have a derivative, and exact */                              \
    X(FLOOR, "floor", 1, "floor", F_CALL, 1,   2,  1,  floor(a),                              \
      NULL, NULL, EDGE_NONE, KINK_STEP,                                                       \
      "floor/ceil: jumps at integers (derivative taken as 0)")                                \
    X(CEIL,  "ceil",  1, "ceil",  F_CALL, 1,   2,  1,  ceil(a),                               \
      NULL, NULL, EDGE_NONE, KINK_STEP,                                                       \
      "floor/ceil: jumps at integers (derivative taken as 0)")                                \
    /* no <math.h> counterpart: templates. sign is a step, and keeps the sign of a zero and   \
     * a NaN; relu(NaN) is 0, as max(x, 0) (fmax drops a NaN operand) */                      \
    X(SIGN,  "sign",  1, "(@ > 0 ? 1 : (@ < 0 ? -1 : @))", F_TEMPLATE, 1, 2, 1,               \
      a > 0 ? 1 : a < 0 ? -1 : a,                                                             \
      NULL, NULL, EDGE_NONE, KINK_SIGN, "sign: jumps at 0 (derivative taken as 0)")           \
    X(RELU,  "relu",  1, "(@ > 0 ? @ : 0)", F_TEMPLATE, 1, 2, 1, a > 0 ? a : 0,               \
      NULL, NULL, EDGE_NONE, KINK_SIGN,                                                       \
      "relu: kink at 0 (the derivative there is taken as 0)")                                 \
    /* stable: exp of a non-positive argument only, so no inf / inf at -1000 or 1000, and no  \
     * overflow of softplus = max(x, 0) + log(1 + exp(-|x|)) for large x */                   \
    X(SIGMOID, "sigmoid", 1, "(@ >= 0 ? 1 / (1 + exp(-@)) : exp(@) / (1 + exp(@)))",          \
      F_TEMPLATE, 0, 30, 0, a >= 0 ? 1 / (1 + exp(-a)) : exp(a) / (1 + exp(a)),               \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(SOFTPLUS, "softplus", 1, "(fmax(@, 0) + log1p(exp(-fabs(@))))",                         \
      F_TEMPLATE, 0, 45, 0, fmax(a, 0) + log1p(exp(-fabs(a))),                                \
      NULL, NULL, EDGE_NONE, KINK_NONE, NULL)                                                 \
    X(ADD,   NULL,    2, "+",     F_ADD,  1,   1,  1,  a + b,                                 \
      "add", NULL, EDGE_NONE, KINK_NONE, NULL)                                                \
    X(SUB,   NULL,    2, "-",     F_ADD,  1,   1,  1,  a - b,                                 \
      "sub", NULL, EDGE_NONE, KINK_NONE, NULL)                                                \
    X(MUL,   NULL,    2, "*",     F_MUL,  1,   1,  0,  a * b,                                 \
      "mul", NULL, EDGE_NONE, KINK_NONE, NULL)                                                \
    X(DIV,   NULL,    2, "/",     F_MUL,  1,   4,  0,  a / b,                                 \
      "div", NULL, EDGE_DIVISOR, KINK_NONE, "division: unbounded where the divisor is 0")     \
    X(POW,   "pow",   2, "pow",   F_CALL, 0,   40,  0,  pow(a, b),                            \
      NULL, NULL, EDGE_BASE, KINK_NONE,                                                       \
      "pow with a variable base: undefined where the base is negative; at base 0 the "        \
      "derivative in the exponent is taken as 0")                                             \
    X(ATAN2, "atan2", 2, "atan2", F_CALL, 0,   40,  0,  atan2(a, b),                          \
      NULL, NULL, EDGE_NONE, KINK_ORIGIN, "atan2: undefined where both arguments are 0")      \
    X(HYPOT, "hypot", 2, "hypot", F_CALL, 0,   20,  0,  hypot(a, b),                          \
      NULL, NULL, EDGE_NONE, KINK_ORIGIN, "hypot: kink where both arguments are 0")           \
    X(MIN,   "min",   2, "fmin",  F_CALL, 0,   2,  1,  fmin(a, b),                            \
      NULL, "\\min", EDGE_NONE, KINK_ORDER,                                                   \
      "min: kink where its operands are equal (each gets half there)")                        \
    X(MAX,   "max",   2, "fmax",  F_CALL, 0,   2,  1,  fmax(a, b),                            \
      NULL, "\\max", EDGE_NONE, KINK_ORDER,                                                   \
      "max: kink where its operands are equal (each gets half there)")                        \
    /* comparisons and logic give 1 or 0; internal for now (the conditions of selections) */ \
    X(EQ,    NULL,    2, "==",    F_CMP,  1,   1,  1,  a == b,                                \
      NULL, "=", EDGE_NONE, KINK_NONE, NULL)                                                  \
    X(NE,    NULL,    2, "!=",    F_CMP,  1,   1,  1,  a != b,                                \
      NULL, "\\ne", EDGE_NONE, KINK_NONE, NULL)                                               \
    X(LT,    NULL,    2, "<",     F_CMP,  1,   1,  1,  a < b,                                 \
      NULL, "<", EDGE_NONE, KINK_NONE, NULL)                                                  \
    X(LE,    NULL,    2, "<=",    F_CMP,  1,   1,  1,  a <= b,                                \
      NULL, "\\le", EDGE_NONE, KINK_NONE, NULL)                                               \
    X(GT,    NULL,    2, ">",     F_CMP,  1,   1,  1,  a > b,                                 \
      NULL, ">", EDGE_NONE, KINK_NONE, NULL)                                                  \
    X(GE,    NULL,    2, ">=",    F_CMP,  1,   1,  1,  a >= b,                                \
      NULL, "\\ge", EDGE_NONE, KINK_NONE, NULL)                                               \
    X(AND,   NULL,    2, "&&",    F_LOGIC, 1,  1,  1,  a != 0 && b != 0,                      \
      "and", "\\land", EDGE_NONE, KINK_NONE, NULL)                                            \
    X(OR,    NULL,    2, "||",    F_LOGIC, 1,  1,  1,  a != 0 || b != 0,                      \
      "or", "\\lor", EDGE_NONE, KINK_NONE, NULL)                                              \
    X(NOT,   NULL,    1, "!",     F_NOT,  1,   1,  1,  a == 0,                                \
      "not", NULL, EDGE_NONE, KINK_NONE, NULL)                                                \
    /* a != 0 ? b : c: only the chosen operand reaches the result */                          \
    X(IF,    NULL,    3, "?:",    F_IF,   1,   1,  1,  a != 0 ? b : c,                        \
      "if", NULL, EDGE_NONE, KINK_BRANCH,                                                     \
      "if: branch switch where the condition changes; the derivative jumps")

#endif
