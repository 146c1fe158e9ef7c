/*
 * main.c: the command line's first word: `adgen eval` (evalcmd.c), `adgen check`
 * (checkcmd.c), else the command that generates C (gencmd.c). Each returns an exit status:
 * 0 success, 1 bad input, 2 usage or I/O error; what went to standard output must have got
 * there.
 */
#include <getopt.h>
#include <string.h>

#include "adgen.h"

int main(int argc, char **argv)
{
    opterr = 0;
    memory_reuse();
    if (argc > 1 && strcmp(argv[1], "eval") == 0)
        return cli_flush_stdout(evalcmd_main(argc - 1, argv + 1));
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return cli_flush_stdout(checkcmd_main(argc - 1, argv + 1));
    return cli_flush_stdout(gencmd_main(argc, argv));
}
