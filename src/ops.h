/*
 * ops.h: the one table of operations. Every fact about a kind of node is one row here; the
 * enum, sema's function names, the interpreter, folding, printing and the cost weights are
 * made from it, and the derivative rule of kind K is the function rule_K of deriv.c, which
 * the table names by pasting: a row without its rule does not compile.
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
 */
#ifndef ADGEN_OPS_H
#define ADGEN_OPS_H

#define OPS(X)                                                                                \
    /* kind  lang     ar c        form    fold cost lin value */                          \
    X(NONE,  NULL,    0, "?",     F_LEAF, 0,   0,  1,  NAN)                                   \
    X(CONST, NULL,    0, "const", F_LEAF, 0,   0,  1,  NAN)                                   \
    X(INPUT, NULL,    0, "input", F_LEAF, 0,   0,  1,  NAN)                                   \
    X(NEG,   NULL,    1, "-",     F_NEG,  1,   1,  1,  -a)                                    \
    X(SIN,   "sin",   1, "sin",   F_CALL, 0,   20,  0,  sin(a))                               \
    X(COS,   "cos",   1, "cos",   F_CALL, 0,   20,  0,  cos(a))                               \
    X(TAN,   "tan",   1, "tan",   F_CALL, 0,   25,  0,  tan(a))                               \
    X(ASIN,  "asin",  1, "asin",  F_CALL, 0,   25,  0,  asin(a))                              \
    X(ACOS,  "acos",  1, "acos",  F_CALL, 0,   25,  0,  acos(a))                              \
    X(ATAN,  "atan",  1, "atan",  F_CALL, 0,   25,  0,  atan(a))                              \
    X(SINH,  "sinh",  1, "sinh",  F_CALL, 0,   25,  0,  sinh(a))                              \
    X(COSH,  "cosh",  1, "cosh",  F_CALL, 0,   25,  0,  cosh(a))                              \
    X(TANH,  "tanh",  1, "tanh",  F_CALL, 0,   25,  0,  tanh(a))                              \
    X(EXP,   "exp",   1, "exp",   F_CALL, 0,   20,  0,  exp(a))                               \
    X(LOG,   "log",   1, "log",   F_CALL, 0,   20,  0,  log(a))                               \
    X(SQRT,  "sqrt",  1, "sqrt",  F_CALL, 1,   6,  0,  sqrt(a))                               \
    X(ABS,   "abs",   1, "fabs",  F_CALL, 1,   1,  1,  fabs(a))                               \
    X(ASINH, "asinh", 1, "asinh", F_CALL, 0,   30,  0,  asinh(a))                             \
    X(ACOSH, "acosh", 1, "acosh", F_CALL, 0,   30,  0,  acosh(a))                             \
    X(ATANH, "atanh", 1, "atanh", F_CALL, 0,   30,  0,  atanh(a))                             \
    X(EXPM1, "expm1", 1, "expm1", F_CALL, 0,   20,  0,  expm1(a))                             \
    X(LOG1P, "log1p", 1, "log1p", F_CALL, 0,   20,  0,  log1p(a))                             \
    X(LOG2,  "log2",  1, "log2",  F_CALL, 0,   20,  0,  log2(a))                              \
    X(LOG10, "log10", 1, "log10", F_CALL, 0,   20,  0,  log10(a))                             \
    X(CBRT,  "cbrt",  1, "cbrt",  F_CALL, 0,   20,  0,  cbrt(a))                              \
    X(ERF,   "erf",   1, "erf",   F_CALL, 0,   25,  0,  erf(a))                               \
    X(ERFC,  "erfc",  1, "erfc",  F_CALL, 0,   25,  0,  erfc(a))                              \
    /* steps: flat wherever they have a derivative, and exact */                              \
    X(FLOOR, "floor", 1, "floor", F_CALL, 1,   2,  1,  floor(a))                              \
    X(CEIL,  "ceil",  1, "ceil",  F_CALL, 1,   2,  1,  ceil(a))                               \
    /* no <math.h> counterpart: templates. sign is a step, and keeps the sign of a zero and   \
     * a NaN; relu(NaN) is 0, as max(x, 0) (fmax drops a NaN operand) */                      \
    X(SIGN,  "sign",  1, "(@ > 0 ? 1 : (@ < 0 ? -1 : @))", F_TEMPLATE, 1, 2, 1,               \
      a > 0 ? 1 : a < 0 ? -1 : a)                                                             \
    X(RELU,  "relu",  1, "(@ > 0 ? @ : 0)", F_TEMPLATE, 1, 2, 1, a > 0 ? a : 0)               \
    /* stable: exp of a non-positive argument only, so no inf / inf at -1000 or 1000, and no  \
     * overflow of softplus = max(x, 0) + log(1 + exp(-|x|)) for large x */                   \
    X(SIGMOID, "sigmoid", 1, "(@ >= 0 ? 1 / (1 + exp(-@)) : exp(@) / (1 + exp(@)))",          \
      F_TEMPLATE, 0, 30, 0, a >= 0 ? 1 / (1 + exp(-a)) : exp(a) / (1 + exp(a)))               \
    X(SOFTPLUS, "softplus", 1, "(fmax(@, 0) + log1p(exp(-fabs(@))))",                         \
      F_TEMPLATE, 0, 45, 0, fmax(a, 0) + log1p(exp(-fabs(a))))                                \
    X(ADD,   NULL,    2, "+",     F_ADD,  1,   1,  1,  a + b)                                 \
    X(SUB,   NULL,    2, "-",     F_ADD,  1,   1,  1,  a - b)                                 \
    X(MUL,   NULL,    2, "*",     F_MUL,  1,   1,  0,  a * b)                                 \
    X(DIV,   NULL,    2, "/",     F_MUL,  1,   4,  0,  a / b)                                 \
    X(POW,   "pow",   2, "pow",   F_CALL, 0,   40,  0,  pow(a, b))                            \
    X(ATAN2, "atan2", 2, "atan2", F_CALL, 0,   40,  0,  atan2(a, b))                          \
    X(HYPOT, "hypot", 2, "hypot", F_CALL, 0,   20,  0,  hypot(a, b))                          \
    X(MIN,   "min",   2, "fmin",  F_CALL, 0,   2,  1,  fmin(a, b))                            \
    X(MAX,   "max",   2, "fmax",  F_CALL, 0,   2,  1,  fmax(a, b))                            \
    /* comparisons and logic give 1 or 0; internal for now (the conditions of selections) */ \
    X(EQ,    NULL,    2, "==",    F_CMP,  1,   1,  1,  a == b)                                \
    X(NE,    NULL,    2, "!=",    F_CMP,  1,   1,  1,  a != b)                                \
    X(LT,    NULL,    2, "<",     F_CMP,  1,   1,  1,  a < b)                                 \
    X(LE,    NULL,    2, "<=",    F_CMP,  1,   1,  1,  a <= b)                                \
    X(GT,    NULL,    2, ">",     F_CMP,  1,   1,  1,  a > b)                                 \
    X(GE,    NULL,    2, ">=",    F_CMP,  1,   1,  1,  a >= b)                                \
    X(AND,   NULL,    2, "&&",    F_LOGIC, 1,  1,  1,  a != 0 && b != 0)                      \
    X(OR,    NULL,    2, "||",    F_LOGIC, 1,  1,  1,  a != 0 || b != 0)                      \
    X(NOT,   NULL,    1, "!",     F_NOT,  1,   1,  1,  a == 0)                                \
    /* a != 0 ? b : c: only the chosen operand reaches the result */                          \
    X(IF,    NULL,    3, "?:",    F_IF,   1,   1,  1,  a != 0 ? b : c)

#endif
