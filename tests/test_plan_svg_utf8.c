/* pact_plan_svg with names that are not UTF-8 (they come from model and plan
 * files, which are not validated as UTF-8): the document declares UTF-8, so
 * an invalid byte sequence copied into it made it ill-formed and XML parsers
 * refused it. An independent parser (Python's expat) must accept the
 * document, and a valid multi-byte name must come out unchanged. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    int n = 0;
    pact_error err;
    pact_plan *plan = NULL;
    /* model name: truncated 3-byte sequence; layers: a lone 0xff, an overlong
     * '/', a UTF-16 surrogate, and a valid e-acute and euro sign */
    CHECK_OK(pact_plan_create("m\xe2\x82", "", 4, &plan, &err), &err);
    n++;
    const char *names[4] = {"bad\xff" "name", "over\xc0\xaf" "long", "sur\xed\xa0\x80" "rogate",
                            "caf\xc3\xa9\xe2\x82\xac"};
    int d = 3;
    const double c[4] = {0.5, 0.5, 0.5, 0.5}, *cheb = c;
    for (int i = 0; plan && i < 4; i++) {
        pact_plan_layer l = {.name = names[i], .func = PACT_RELU, .form = PACT_FORM_POLY, .a = -1,
                             .b = 1, .n_parts = 1, .degrees = &d, .cheb = &cheb,
                             .max_error = NAN, .impact = NAN};
        CHECK_OK(pact_plan_set_layer(plan, i, &l, &err), &err);
        n++;
    }
    char *svg = NULL;
    if (plan)
        CHECK_OK(pact_plan_svg(plan, NULL, 0, 0.0, NULL, NULL, &svg, &err), &err);
    n++;
    if (svg) {
        CHECK(strstr(svg, "caf\xc3\xa9\xe2\x82\xac") != NULL, "the valid UTF-8 name was altered");
        char path[] = "/tmp/pact_svg_utf8_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0, "mkstemp");
        if (fd >= 0) {
            FILE *f = fdopen(fd, "wb");
            fputs(svg, f);
            fclose(f);
            char cmd[512], out[4096] = "";
            snprintf(cmd, sizeof cmd,
                     "python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
                     "sys.exit(d.documentElement.tagName != \"svg\")' %s 2>&1",
                     path);
            int rc = pact_test_run(cmd, out, sizeof out);
            CHECK(rc == 0, "python3 xml.dom.minidom refused the SVG (exit %d): %s", rc, out);
            unlink(path);
        }
        n += 3;
    }
    free(svg);
    pact_plan_free(plan);
    return pact_test_done("test_plan_svg_utf8", n);
}
