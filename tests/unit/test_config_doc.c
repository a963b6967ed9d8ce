/* docs/CONFIG.md documents every key of the schema, and its key reference
 * is the one the schema generates today (type, default, range, meaning).
 * When this fails after a change to the schema or to a module's defaults,
 * run `make config-doc` and commit docs/CONFIG.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_impl.h"
#include "tap/basic.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        text = bmalloc((size_t)n + 1);
        if (fread(text, 1, (size_t)n, f) != (size_t)n) {
            free(text);
            text = NULL;
        } else {
            text[n] = '\0';
        }
    }
    fclose(f);
    return text;
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    char path[4096], key[160], *doc, *gen, *line, *save = NULL;
    stdbp_err err;
    size_t i, missing = 0, stale = 0, rows = 0;

    snprintf(path, sizeof path, "%s/docs/CONFIG.md", top && top[0] ? top : ".");
    doc = slurp(path);
    if (!doc)
        bail("cannot read %s", path);
    plan(stdbp_cfg_schema_len + stdbp_cfg_layer_keys_len + 3);

    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        snprintf(key, sizeof key, "`%s`", stdbp_cfg_schema[i].path);
        ok(strstr(doc, key) != NULL, "docs/CONFIG.md documents %s", key);
        missing += strstr(doc, key) == NULL;
    }
    for (i = 0; i < stdbp_cfg_layer_keys_len; i++) {
        snprintf(key, sizeof key, "`%s`", stdbp_cfg_layer_keys[i].path);
        ok(strstr(doc, key) != NULL, "docs/CONFIG.md documents %s", key);
        missing += strstr(doc, key) == NULL;
    }

    if (stdbp_config_doc_markdown(&gen, &err) != STDBP_OK)
        bail("%s", err.msg);
    for (line = strtok_r(gen, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] != '|' || strncmp(line, "| `", 3) != 0)
            continue;
        rows++;
        if (!strstr(doc, line)) {
            if (stale++ < 5)
                diag("not in docs/CONFIG.md: %s", line);
        }
    }
    is_int(stdbp_cfg_schema_len + stdbp_cfg_layer_keys_len, (long long)rows,
           "the generator writes one row per key");
    ok(stale == 0, "every generated row is in docs/CONFIG.md (%zu stale; run make config-doc)",
       stale);
    ok(strstr(doc, "--set") != NULL, "docs/CONFIG.md explains --set");
    if (missing || stale)
        diag("regenerate with: make config-doc");
    free(gen);
    free(doc);
    return 0;
}
