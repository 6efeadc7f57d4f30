/* polyact optimize: a --floors entry outside 0..1 (or not a number) is a
 * usage error (exit 2, one line naming the flag and the value), found before
 * anything is loaded; it used to pass the CLI and fail later as a runtime
 * error (exit 1) once the model and data were read. Likewise --refit-images
 * without --refit, which used to be ignored silently. */
#include "testutil.h"

#include <string.h>

static char out[1 << 14];

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

int main(void)
{
    int n = 0;
    const char *bad[] = {"2", "-0.5", "nan", "0.1,inf"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char cmd[1024];
        /* the model does not exist: only the flag check can make this exit 2 */
        snprintf(cmd, sizeof cmd,
                 "'%s' optimize --model /nonexistent/m.safetensors --data /nonexistent "
                 "-o /nonexistent/plan.json --floors '%s' 2>&1",
                 pact_test_cli(), bad[k]);
        int rc = pact_test_run(cmd, out, sizeof out);
        CHECK(rc == 2 && strstr(out, "--floors") && lines(out) == 1,
              "--floors %s: exit %d (want 2), output '%s'", bad[k], rc, out);
        n++;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' optimize --model /nonexistent/m.safetensors --data /nonexistent "
             "-o /nonexistent/plan.json --refit-images 64 2>&1",
             pact_test_cli());
    int rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 2 && strstr(out, "--refit-images needs --refit") && lines(out) == 1,
          "--refit-images without --refit: exit %d (want 2), output '%s'", rc, out);
    n++;
    return pact_test_done("test_optimize_cli", n);
}
