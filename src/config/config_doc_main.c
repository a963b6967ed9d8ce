/* stdbp_config_doc: print the key reference of docs/CONFIG.md (markdown),
 * generated from the configuration schema. `make config-doc` pastes it
 * between the markers of docs/CONFIG.md. */
#include <stdio.h>
#include <stdlib.h>

#include "config/config_impl.h"

int main(void)
{
    stdbp_err err;
    char *text = NULL;
    stdbp_err_clear(&err);
    if (stdbp_config_doc_markdown(&text, &err) != STDBP_OK) {
        fprintf(stderr, "stdbp_config_doc: %s\n", err.msg);
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}
