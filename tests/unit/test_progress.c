/* The trainer's console lines (src/train/progress.c): in log mode every
 * line starts with the local time in ISO 8601 and none is wider than 80
 * columns (long ones wrap, continuation lines indented by four, fields
 * joined by STDBP_PROGRESS_NBSP never split); the evaluation shows its
 * progress (a line when it starts in log mode, a bar on a terminal); the
 * ETA counts the evaluations still to run. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap/basic.h"
#include "train/progress.h"

/* Everything p wrote since the last call, from its tmpfile. */
static char *take(stdbp_progress *p)
{
    long n = ftell(p->out);
    char *buf = bcalloc((size_t)n + 1, 1);
    rewind(p->out);
    if (n > 0 && fread(buf, 1, (size_t)n, p->out) != (size_t)n)
        bail("reading back the output failed");
    rewind(p->out);
    if (ftruncate(fileno(p->out), 0) != 0)
        bail("ftruncate failed");
    return buf;
}

/* "YYYY-MM-DDThh:mm:ss " at s? */
static int stamped(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd ";
    for (size_t k = 0; pat[k]; k++)
        if (pat[k] == 'd' ? !isdigit((unsigned char)s[k]) : s[k] != pat[k])
            return 0;
    return 1;
}

/* Checks the log-mode text: stamps, widths, continuation indents; the
 * text without stamps and line breaks into joined. Returns the number of
 * physical lines. */
static int check_lines(const char *text, int *widest, int *stamps, int *bad_cont, char *joined)
{
    int lines = 0;
    *widest = *stamps = *bad_cont = 0;
    joined[0] = '\0';
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        *widest = len > *widest ? len : *widest;
        if (stamped(s)) {
            ++*stamps;
            if (joined[0])
                strcat(joined, "\n");
            strncat(joined, s + 20, (size_t)len - 20);
        } else if (strncmp(s, "    ", 4) == 0 && s[4] != ' ') {
            strcat(joined, " ");
            strncat(joined, s + 4, (size_t)len - 4);
        } else
            ++*bad_cont;
        lines++;
        s += len + (nl != NULL);
    }
    return lines;
}

int main(void)
{
    stdbp_progress p;
    char joined[4096];
    int widest, stamps, bad;
    plan(19);

    stdbp_progress_init(&p, 0, 0, 2);
    if (!(p.out = tmpfile()))
        sysbail("tmpfile");
    ok(p.stamp && p.width == 80, "log mode: stamps on, 80 columns");

    /* 1. A short line: one stamped line. */
    stdbp_progress_print(&p, "checkpoint %s\n", "runs/x/ckpt.h5");
    char *out = take(&p);
    ok(stamped(out) && strcmp(out + 20, "checkpoint runs/x/ckpt.h5\n") == 0,
       "a short line: the local time in ISO 8601, then the text (%s)", out);
    free(out);

    /* 2. The epoch line (about 150 columns): wrapped, nothing lost. */
    const char *epoch = "epoch\a12/30: train\aloss\a0.1234\aacc\a96.00% | val\aacc\a95.00% | "
                        "test\aloss\a0.1234\aacc\a95.00% | 5.0\as, 12000\asamples/s "
                        "(of\athe\astep\atime:\areduce\a1.0%,\aupdate\a2.0%)";
    stdbp_progress_print(&p, "%s\n", epoch);
    out = take(&p);
    int n = check_lines(out, &widest, &stamps, &bad, joined);
    ok(n >= 2 && widest <= 80, "the epoch line wraps into %d lines of at most 80 columns (%d)", n,
       widest);
    ok(stamps == 1 && bad == 0, "  one stamp, continuation lines indented by four");
    char want[1024];
    snprintf(want, sizeof want, "%s", epoch);
    for (char *c = want; *c; c++)
        *c = *c == '\a' ? ' ' : *c;
    is_string(want, joined, "  the text is all there, in order");
    ok(strstr(out, "(of the step time: reduce 1.0%, update 2.0%)") &&
           strstr(out, "train loss 0.1234 acc 96.00%") && strstr(out, "epoch 12/30:"),
       "  the fields joined by no-break spaces stay on one line");
    ok(!strchr(out, '\a'), "  no-break spaces are printed as spaces");
    free(out);

    /* 3. A step line and several lines at once. */
    stdbp_progress_step(&p, 3, 30, 100, 469, 0.1234, 0.96, 12345, 62);
    out = take(&p);
    n = check_lines(out, &widest, &stamps, &bad, joined);
    ok(widest <= 80 && stamps == 1 && bad == 0 && strstr(out, "step 100/469") &&
           strstr(out, "12345 samples/s") && strstr(out, "ETA 0:01:02"),
       "a step line: stamped, within 80 columns (%d), fields whole", widest);
    free(out);
    stdbp_progress_print(&p, "first\nsecond\n");
    out = take(&p);
    n = check_lines(out, &widest, &stamps, &bad, joined);
    ok(n == 2 && stamps == 2, "two lines in one message: each stamped");
    free(out);

    /* 4. A word longer than a line (a path) stays whole. */
    char path[200];
    memset(path, 'd', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    stdbp_progress_print(&p, "resumed\afrom\a/%s at epoch\a1, step\a7\n", path);
    out = take(&p);
    ok(strstr(out, path) && strstr(out, "resumed from /dd") && strstr(out, "epoch 1, step 7"),
       "a path longer than a line stays whole, after its words");
    free(out);

    /* 5. The evaluation in log mode: a line when it starts. */
    stdbp_progress_eval(&p, 2, 5, 0, 15000, 0);
    out = take(&p);
    ok(stamped(out) && strstr(out, "epoch 2/5: evaluating 15000 samples"),
       "log mode: the evaluation says when it starts (%s)", out);
    free(out);
    stdbp_progress_eval(&p, 2, 5, 5000, 15000, 10);
    out = take(&p);
    is_string("", out, "  and not again within 30 s");
    free(out);
    p.eval_log -= 31;
    stdbp_progress_eval(&p, 2, 5, 5000, 15000, 10);
    out = take(&p);
    ok(strstr(out, "evaluated 5000 of 15000 samples, ETA 0:00:10") != NULL,
       "  after 30 s: how far it is, with the ETA (%s)", out);
    free(out);

    /* 6. On a terminal: a bar for the evaluation, no stamps. */
    FILE *f = p.out;
    stdbp_progress_init(&p, 1, 0, 2);
    p.out = f;
    ok(!p.stamp, "bar mode: no stamps");
    stdbp_progress_eval(&p, 2, 5, 7500, 15000, 10);
    out = take(&p);
    const char *bar = "\repoch 2/5 evaluating [############............] 7500/15000 ETA 0:00:10";
    ok(strncmp(out, bar, strlen(bar)) == 0, "bar mode: the evaluation's bar (%s)", out + 1);
    free(out);
    stdbp_progress_print(&p, "epoch\a2/5: done\n");
    out = take(&p);
    is_string("\r\033[Kepoch 2/5: done\n", out, "  a line clears the bar first");
    free(out);
    fclose(f);

    /* 7. The ETA counts the evaluations. */
    stdbp_eta e = {.train_left = 1000, .eval_left = 500, .train_rate = 100, .eval_rate = 50};
    is_double(20, stdbp_progress_eta(&e), 1e-12, "ETA: training and evaluation at their rates");
    e.eval_rate = 0;
    is_double(12.5, stdbp_progress_eta(&e), 1e-12,
              "  before an evaluation was measured: at twice the training rate");
    e.train_left = 0;
    e.eval_rate = 250;
    is_double(2, stdbp_progress_eta(&e), 1e-12, "  at the last step: the evaluation still left");
    return tap_failures() != 0;
}
