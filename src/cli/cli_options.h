/* One command-line layer for the stdbp_* programs: each program describes
 * its options in a table (long name, short form, what the argument is, the
 * help text, where the value goes); stdbp_cli_parse runs getopt_long from
 * it and stdbp_cli_help prints the option list of --help from it, so that
 * parsing, messages and help agree in every program.
 *
 *     static const char head[] = "Usage: prog FILE [OPTION]...\n...\nOptions:\n";
 *     const stdbp_cli_option opts[] = {
 *         {.kind = STDBP_CLI_LIST, .name = "set", .metavar = "KEY.PATH=VALUE",
 *          .help = "override a config key", .target = &sets},
 *         {.kind = STDBP_CLI_FLAG, .name = "quiet", .short_name = 'q',
 *          .help = "print nothing", .target = &quiet, .value = 1},
 *         {.kind = STDBP_CLI_HELP, .name = "help", .short_name = 'h',
 *          .help = "print this help and exit"},
 *         {.kind = STDBP_CLI_END}};
 *     const stdbp_cli_spec spec = {"prog", head, "", opts, "FILE", STDBP_CLI_GIVE_ONE,
 *                                  rank == 0};
 *     const char *file;
 *     int rc = stdbp_cli_parse(&spec, argc, argv, &file);
 *
 * Not collective: every rank parses the same argv and reaches the same
 * verdict; only a spec with verbose set prints. Not reentrant (getopt's
 * state is global). */
#ifndef STDBP_CLI_OPTIONS_H
#define STDBP_CLI_OPTIONS_H

#include <stdio.h>

typedef enum stdbp_cli_kind {
    STDBP_CLI_END = 0, /* ends the table */
    STDBP_CLI_FLAG,    /* no argument: *(int *)target = value */
    STDBP_CLI_COUNT,   /* no argument: ++*(int *)target */
    STDBP_CLI_STRING,  /* *(const char **)target = the argument */
    STDBP_CLI_LIST,    /* repeatable: appended to *(stdbp_cli_list *)target */
    STDBP_CLI_PARSE,   /* parse(argument, target); on failure "PROG: " + bad */
    STDBP_CLI_HELP,    /* print the help on stdout, stop (exit 0) */
    STDBP_CLI_VERSION, /* print "PROG VERSION" on stdout, stop (exit 0) */
    STDBP_CLI_TEXT     /* not an option: help is printed as it is */
} stdbp_cli_kind;

/* The arguments of a repeatable option, in command-line order (views into
 * argv). Free items with free(). */
typedef struct stdbp_cli_list {
    char **items;
    int n;
} stdbp_cli_list;

typedef struct stdbp_cli_option {
    stdbp_cli_kind kind;
    const char *name;    /* long name, without "--" */
    int short_name;      /* 'q' for -q, or 0 */
    const char *metavar; /* the argument in the help ("DIR"); NULL: none */
    const char *help;    /* lines joined by '\n' */
    void *target;
    int value; /* FLAG: the value stored */
    /* PARSE: 0 if arg is valid (and stored in target), else nonzero. */
    int (*parse)(const char *arg, void *target);
    const char *bad; /* PARSE: the complaint, a format with one %s (arg) */
} stdbp_cli_option;

/* How a wrong number of operands is reported. */
typedef enum stdbp_cli_operand_msg {
    STDBP_CLI_GIVE_ONE,    /* "give exactly one X" */
    STDBP_CLI_MISSING_MORE /* "missing X" or "more than one X given" */
} stdbp_cli_operand_msg;

typedef struct stdbp_cli_spec {
    const char *prog;                /* "stdbp_train": messages, --version */
    const char *head;                /* --help before the option list */
    const char *tail;                /* --help after it */
    const stdbp_cli_option *options; /* ended by kind STDBP_CLI_END */
    const char *operand;             /* the one operand, "CONFIG.yaml" */
    stdbp_cli_operand_msg operand_msg;
    int verbose; /* print messages and help (rank 0) */
} stdbp_cli_spec;

/* The options that several programs share, as table entries. */
#define STDBP_CLI_OPT_END                                                                          \
    {                                                                                              \
        .kind = STDBP_CLI_END                                                                      \
    }
#define STDBP_CLI_OPT_HELP                                                                         \
    {                                                                                              \
        .kind = STDBP_CLI_HELP, .name = "help", .short_name = 'h',                                 \
        .help = "print this help and exit"                                                         \
    }
#define STDBP_CLI_OPT_VERSION                                                                      \
    {                                                                                              \
        .kind = STDBP_CLI_VERSION, .name = "version", .help = "print the version and exit"         \
    }
/* --set KEY.PATH=VALUE into the stdbp_cli_list *TARGET. */
#define STDBP_CLI_OPT_SET(TARGET, HELP)                                                            \
    {                                                                                              \
        .kind = STDBP_CLI_LIST, .name = "set", .metavar = "KEY.PATH=VALUE", .help = HELP,          \
        .target = TARGET                                                                           \
    }
/* --resume auto|PATH into the const char *TARGET. */
#define STDBP_CLI_OPT_RESUME(TARGET, HELP)                                                         \
    {                                                                                              \
        .kind = STDBP_CLI_STRING, .name = "resume", .metavar = "auto|PATH", .help = HELP,          \
        .target = TARGET                                                                           \
    }
/* --progress MODE into the int *TARGET (stdbp_cli_parse_progress). */
#define STDBP_CLI_OPT_PROGRESS(TARGET, HELP)                                                       \
    {                                                                                              \
        .kind = STDBP_CLI_PARSE, .name = "progress", .metavar = "MODE", .help = HELP,              \
        .target = TARGET, .parse = stdbp_cli_parse_progress,                                       \
        .bad = "--progress takes bar, log or auto, not '%s'"                                       \
    }
/* --exit-file PATH into the const char *TARGET (stdbp_cli_write_exit_file
 * of cli_common.h); SCRIPT names the batch script that passes it. */
#define STDBP_CLI_OPT_EXIT_FILE(TARGET, SCRIPT)                                                    \
    {                                                                                              \
        .kind = STDBP_CLI_STRING, .name = "exit-file", .metavar = "PATH",                          \
        .help = "rank 0 writes the exit status (0, 1 or 75) to\n"                                  \
                "PATH before it exits, for launchers that do not\n"                                \
                "pass 75 on (mpirun after its own SIGTERM: see\n"                                  \
                "docs/SLURM.md; " SCRIPT " uses it)",                                              \
        .target = TARGET                                                                           \
    }
/* --no-deploy: *TARGET = 0. */
#define STDBP_CLI_OPT_NO_DEPLOY(TARGET)                                                            \
    {                                                                                              \
        .kind = STDBP_CLI_FLAG, .name = "no-deploy",                                               \
        .help = "skip the quantisation and accelerator report", .target = TARGET, .value = 0       \
    }
/* -q, --quiet: *TARGET = 1. */
#define STDBP_CLI_OPT_QUIET(TARGET, HELP)                                                          \
    {                                                                                              \
        .kind = STDBP_CLI_FLAG, .name = "quiet", .short_name = 'q', .help = HELP,                  \
        .target = TARGET, .value = 1                                                               \
    }

/* Parse argv by spec: the options, then exactly one operand, into
 * *operand. Returns 0; -1 after --help or --version (exit 0); 2 for a bad
 * command line (a message printed, exit 2); 1 when out of memory (a
 * message printed, exit 1). */
int stdbp_cli_parse(const stdbp_cli_spec *spec, int argc, char **argv, const char **operand);

/* --help: head, the option list (labels in one column, help beside), tail. */
void stdbp_cli_help(const stdbp_cli_spec *spec, FILE *out);

/* A bad command line: "PROG: MESSAGE" and, with try_help, "Try 'PROG
 * --help'." on stderr (when verbose). Returns 2, the exit status. */
int stdbp_cli_bad_usage(const stdbp_cli_spec *spec, int try_help, const char *fmt, ...)
    __attribute__((__format__(printf, 3, 4)));

/* PARSE helpers. A decimal integer > 0 into *(long *)target. */
int stdbp_cli_parse_positive(const char *arg, void *target);
/* A decimal integer >= 0 (a point number) into *(long *)target. */
int stdbp_cli_parse_index(const char *arg, void *target);
/* --resume auto|PATH into the const char *TARGET. */
#define STDBP_CLI_OPT_RESUME(TARGET, HELP)                                                         \
    {                                                                                              \
        .kind = STDBP_CLI_STRING, .name = "resume", .metavar = "auto|PATH", .help = HELP,          \
        .target = TARGET                                                                           \
    }
/* --progress MODE into *(int *)target: bar 1, log 0, auto -1. */
int stdbp_cli_parse_progress(const char *arg, void *target);

#endif
