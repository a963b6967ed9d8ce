/* The programs' option tables; see cli_options.h. */
#include "cli/cli_options.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "stdbp/stdbp.h"

/* More than any program has; the table is checked against it. */
#define MAX_OPTIONS 32

static int takes_argument(stdbp_cli_kind k)
{
    return k == STDBP_CLI_STRING || k == STDBP_CLI_LIST || k == STDBP_CLI_PARSE;
}

int stdbp_cli_bad_usage(const stdbp_cli_spec *spec, int try_help, const char *fmt, ...)
{
    va_list ap;
    if (!spec->verbose)
        return 2;
    fprintf(stderr, "%s: ", spec->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (try_help)
        fprintf(stderr, "Try '%s --help'.\n", spec->prog);
    return 2;
}

/* One option's argument (or its absence) into its target. Returns 0, or
 * the parse result (1 out of memory, 2 bad). */
static int apply(const stdbp_cli_spec *spec, const stdbp_cli_option *o, const char *arg, int argc)
{
    stdbp_cli_list *list;
    switch (o->kind) {
    case STDBP_CLI_FLAG:
        *(int *)o->target = o->value;
        return 0;
    case STDBP_CLI_COUNT:
        ++*(int *)o->target;
        return 0;
    case STDBP_CLI_STRING:
        *(const char **)o->target = arg;
        return 0;
    case STDBP_CLI_LIST:
        list = o->target;
        /* Never more items than arguments. */
        if (!list->items && !(list->items = calloc((size_t)argc + 1, sizeof *list->items))) {
            if (spec->verbose)
                fprintf(stderr, "%s: error: out of memory\n", spec->prog);
            return 1;
        }
        list->items[list->n++] = (char *)arg;
        return 0;
    case STDBP_CLI_PARSE:
        if (o->parse(arg, o->target) == 0)
            return 0;
        if (spec->verbose) {
            fprintf(stderr, "%s: ", spec->prog);
            fprintf(stderr, o->bad, arg);
            fputc('\n', stderr);
        }
        return 2;
    default:
        return 0;
    }
}

int stdbp_cli_parse(const stdbp_cli_spec *spec, int argc, char **argv, const char **operand)
{
    struct option longopts[MAX_OPTIONS + 1];
    char shorts[2 * MAX_OPTIONS + 1];
    size_t n = 0, ns = 0, i;
    int c, index, rc;

    memset(longopts, 0, sizeof longopts);
    for (i = 0; spec->options[i].kind != STDBP_CLI_END && n < MAX_OPTIONS; i++) {
        const stdbp_cli_option *o = &spec->options[i];
        if (o->kind == STDBP_CLI_TEXT)
            continue;
        /* getopt_long returns val: the table index, past every char. */
        longopts[n] = (struct option){
            o->name, takes_argument(o->kind) ? required_argument : no_argument, NULL, 256 + (int)i};
        n++;
        if (o->short_name) {
            shorts[ns++] = (char)o->short_name;
            if (takes_argument(o->kind))
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    opterr = spec->verbose;
    while ((c = getopt_long(argc, argv, shorts, longopts, &index)) != -1) {
        const stdbp_cli_option *o = NULL;
        if (c >= 256)
            o = &spec->options[c - 256];
        for (i = 0; !o && c != '?' && c != ':' && spec->options[i].kind != STDBP_CLI_END; i++)
            if (spec->options[i].short_name == c && spec->options[i].kind != STDBP_CLI_TEXT)
                o = &spec->options[i];
        if (!o) {
            if (spec->verbose)
                fprintf(stderr, "Try '%s --help'.\n", spec->prog);
            return 2;
        }
        if (o->kind == STDBP_CLI_HELP || o->kind == STDBP_CLI_VERSION) {
            if (spec->verbose && o->kind == STDBP_CLI_HELP)
                stdbp_cli_help(spec, stdout);
            else if (spec->verbose)
                printf("%s %s\n", spec->prog, STDBP_VERSION);
            return -1;
        }
        if ((rc = apply(spec, o, optarg, argc)) != 0)
            return rc;
    }
    if (optind == argc - 1) {
        *operand = argv[optind];
        return 0;
    }
    if (spec->operand_msg == STDBP_CLI_GIVE_ONE)
        return stdbp_cli_bad_usage(spec, 1, "give exactly one %s", spec->operand);
    return stdbp_cli_bad_usage(spec, 1, optind >= argc ? "missing %s" : "more than one %s given",
                               spec->operand);
}

/* "  -q, --quiet" or "  --set KEY.PATH=VALUE" into buf; its length. */
static size_t label(const stdbp_cli_option *o, char *buf, size_t size)
{
    char dash[8] = "";
    int n;
    if (o->short_name)
        snprintf(dash, sizeof dash, "-%c, ", o->short_name);
    n = snprintf(buf, size, "  %s--%s%s%s", dash, o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
    return n < 0 ? 0 : (size_t)n;
}

void stdbp_cli_help(const stdbp_cli_spec *spec, FILE *out)
{
    char buf[128];
    size_t col = 0, i;
    for (i = 0; spec->options[i].kind != STDBP_CLI_END; i++)
        if (spec->options[i].kind != STDBP_CLI_TEXT) {
            size_t w = label(&spec->options[i], buf, sizeof buf);
            col = w > col ? w : col;
        }
    col += 2;
    fputs(spec->head, out);
    for (i = 0; spec->options[i].kind != STDBP_CLI_END; i++) {
        const stdbp_cli_option *o = &spec->options[i];
        const char *line = o->help;
        if (o->kind == STDBP_CLI_TEXT) {
            fputs(o->help, out);
            continue;
        }
        label(o, buf, sizeof buf);
        fprintf(out, "%-*s", (int)col, buf);
        for (;;) {
            size_t len = strcspn(line, "\n");
            fprintf(out, "%.*s\n", (int)len, line);
            if (!line[len])
                break;
            line += len + 1;
            fprintf(out, "%*s", (int)col, "");
        }
    }
    fputs(spec->tail, out);
}

int stdbp_cli_parse_positive(const char *arg, void *target)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v <= 0)
        return 1;
    *(long *)target = v;
    return 0;
}

int stdbp_cli_parse_index(const char *arg, void *target)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || v < 0)
        return 1;
    *(long *)target = v;
    return 0;
}

int stdbp_cli_parse_progress(const char *arg, void *target)
{
    int mode = stdbp_cli_progress_mode(arg);
    if (mode == -2)
        return 1;
    *(int *)target = mode;
    return 0;
}
