/* The plan picture (pact_plan_svg, `polyact report --svg`): bar heights in
 * proportion to each layer's depth, the front's points joined in latency order,
 * names escaped, a document an XML parser accepts (Python's, independent of
 * ours), byte-identical output, refusals naming the bad point; and the CLI's
 * front table over a budget sweep of plans with the speed-up under the profile. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n;

static int count(const char *s, const char *what)
{
    int k = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        k++;
    return k;
}

/* A layer: degree d polynomial on [-4, 4] (all coefficients 0.5), or per
 * channel with `channels` > 0, or a composite ReLU of parts {d, d}. */
static void set_layer(pact_plan *plan, int i, const char *name, int d, int channels, int composite)
{
    static double c[4][16];
    const double *rows[4] = {c[0], c[1], c[2], c[3]};
    double ca[4] = {-1, -2, -3, -4}, cb[4] = {1, 2, 3, 4}, pa[2] = {-1, -2}, pb[2] = {1, 2};
    int deg[2] = {d, d};
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 16; j++)
            c[k][j] = 0.5;
    pact_plan_layer l = {.name = name, .func = PACT_RELU, .a = -4, .b = 4, .n_parts = 1,
                         .degrees = deg, .cheb = rows, .max_error = NAN, .impact = NAN};
    if (channels) {
        l.n_channels = channels;
        l.channel_a = ca;
        l.channel_b = cb;
        l.channel_cheb = rows;
        l.cheb = NULL;
    }
    if (composite) {
        l.form = PACT_FORM_COMPOSITE;
        l.bound = 4;
        l.n_parts = 2;
        l.part_a = pa;
        l.part_b = pb;
    }
    pact_error err;
    CHECK_OK(pact_plan_set_layer(plan, i, &l, &err), &err);
    n++;
}

static void check_picture(void)
{
    pact_error err;
    pact_plan *plan = NULL;
    CHECK_OK(pact_plan_create("m<&>", "ab", 3, &plan, &err), &err);
    if (!plan)
        return;
    set_layer(plan, 0, "a", 7, 0, 0);        /* depth 3 */
    set_layer(plan, 1, "b<&\"'>", 3, 2, 0);  /* depth 2, per channel */
    set_layer(plan, 2, "c", 3, 0, 1);        /* depth 2 + 2 + 1 = 5 */
    int depth[3];
    for (int i = 0; i < 3; i++) {
        pact_plan_layer l;
        pact_plan_layer_get(plan, i, &l, &err);
        depth[i] = l.depth;
    }
    CHECK(depth[0] == 3 && depth[1] == 2 && depth[2] == 5, "depths %d %d %d, expected 3 2 5",
          depth[0], depth[1], depth[2]);
    pact_front_point pts[3] = {{900.0, 7, 98.0, "max-drop 2"},
                               {700.0, 4, 60.5, "uniform <3>"},
                               {1100.0, 8, 99.5, NULL}};
    char *svg = NULL, *again = NULL;
    CHECK_OK(pact_plan_svg(plan, pts, 3, 2182.4, "mpcnn-log", "accuracy (%)", &svg, &err), &err);
    CHECK_OK(pact_plan_svg(plan, pts, 3, 2182.4, "mpcnn-log", "accuracy (%)", &again, &err), &err);
    n += 3;
    if (!svg || !again)
        goto out;
    CHECK(strcmp(svg, again) == 0, "two calls gave different documents");
    CHECK(strncmp(svg, "<?xml", 5) == 0 && strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0,
          "not an SVG document: starts '%.20s'", svg);
    CHECK(count(svg, "<rect class=\"bar") == 3, "%d bars, expected 3", count(svg, "<rect class=\"bar"));
    CHECK(count(svg, "class=\"bar channels\"") == 1 && count(svg, "class=\"bar composite\"") == 1,
          "bar kinds wrong");
    CHECK(count(svg, "<circle") == 3, "%d points, expected 3", count(svg, "<circle"));
    CHECK(strstr(svg, "b&lt;&amp;&quot;&apos;&gt;") && strstr(svg, "m&lt;&amp;&gt;") &&
              strstr(svg, "uniform &lt;3&gt;") && !strstr(svg, "b<&"),
          "names not escaped");
    n += 6;
    /* bar heights: proportional to depth (the deepest fills the panel) */
    double h[3] = {0};
    const char *p = svg;
    for (int i = 0; i < 3 && (p = strstr(p, "<rect class=\"bar")); i++, p++) {
        const char *q = strstr(p, "height=\"");
        h[i] = q ? atof(q + 8) : 0.0;
    }
    for (int i = 0; i < 3; i++) {
        double want = h[2] * depth[i] / depth[2];
        CHECK(h[2] > 0 && fabs(h[i] - want) <= 0.1, "bar %d height %g, expected %g (depth %d of %d)",
              i, h[i], want, depth[i], depth[2]);
        n++;
    }
    /* the front: x increasing along the polyline (sorted by latency), and the
     * highest accuracy drawn highest (smallest y) */
    const char *pl = strstr(svg, "<polyline class=\"front\" points=\"");
    double x[3] = {0}, y[3] = {0};
    if (pl) {
        pl += strlen("<polyline class=\"front\" points=\"");
        for (int i = 0; i < 3; i++) {
            int used = 0;
            if (sscanf(pl, "%lf,%lf%n", &x[i], &y[i], &used) != 2)
                break;
            pl += used;
        }
    }
    CHECK(x[0] < x[1] && x[1] < x[2], "front x %g %g %g not increasing", x[0], x[1], x[2]);
    CHECK(y[2] < y[1] && y[1] < y[0], "front y %g %g %g: 99.5%% should be highest, 60.5%% lowest",
          y[0], y[1], y[2]);
    n += 2;

    /* an independent XML parser accepts the document */
    char path[] = "/tmp/pact_svg_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        close(fd);
        CHECK_OK(pact_plan_svg_save(plan, pts, 3, 2182.4, "mpcnn-log", NULL, path, &err), &err);
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
                 "sys.exit(d.documentElement.tagName != \"svg\")' %s", path);
        int rc = pact_test_run(cmd, NULL, 0);
        CHECK(rc == 0, "python3 xml.dom.minidom refused the SVG (exit %d)", rc);
        unlink(path);
        n += 2;
    }

    /* without points: only the bars */
    char *bars = NULL;
    CHECK_OK(pact_plan_svg(plan, NULL, 0, 0.0, NULL, NULL, &bars, &err), &err);
    CHECK(bars && !strstr(bars, "<circle") && !strstr(bars, "polyline"), "front drawn without points");
    free(bars);
    n += 2;

    /* refusals name the point; nothing is returned */
    pact_front_point bad[2] = {{900.0, 7, 98.0, "ok"}, {NAN, 4, 60.0, "nan-latency"}};
    char *t = (char *)1;
    CHECK(pact_plan_svg(plan, bad, 2, 2182.4, NULL, NULL, &t, &err) == PACT_EINVAL && t == NULL &&
              strstr(err.message, "point 1") && strstr(err.message, "nan-latency"),
          "NaN latency: %s", err.message);
    bad[1] = (pact_front_point){500.0, 4, 100.5, "acc"};
    CHECK(pact_plan_svg(plan, bad, 2, 2182.4, NULL, NULL, &t, &err) == PACT_EINVAL,
          "accuracy 100.5 accepted");
    CHECK(pact_plan_svg(plan, bad, -1, 2182.4, NULL, NULL, &t, &err) == PACT_EINVAL,
          "-1 points accepted");
    CHECK(pact_plan_svg(plan, pts, 3, INFINITY, NULL, NULL, &t, &err) == PACT_EINVAL,
          "infinite baseline accepted");
    n += 4;
out:
    free(svg);
    free(again);
    pact_plan_free(plan);
}

/* `polyact report` over a sweep of two ResNet-20 plans: the front table, and
 * --svg writes the picture; plans of two models refused. */
static void check_cli(void)
{
    pact_error err;
    char dir[] = "/tmp/pact_report_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp failed");
        return;
    }
    char path[3][600];
    const double acc[2] = {99.5, 98.0}, drop[2] = {0.5, 2.0};
    const int deg[2] = {7, 3};
    for (int k = 0; k < 3; k++) {
        pact_plan *plan = NULL;
        CHECK_OK(pact_plan_create(k < 2 ? "resnet20" : "resnet32", k < 2 ? "ab" : "cd", k < 2 ? 19 : 31, &plan,
                                  &err), &err);
        if (!plan)
            return;
        for (int i = 0; i < pact_plan_layer_count(plan); i++)
            set_layer(plan, i, "relu", deg[k % 2], 0, 0);
        pact_plan_set_summary(plan, "calib_accuracy", acc[k % 2], &err);
        pact_plan_set_summary(plan, "max_drop", drop[k % 2], &err);
        snprintf(path[k], sizeof path[k], "%s/plan%d.json", dir, k);
        CHECK_OK(pact_plan_save(plan, path[k], &err), &err);
        pact_plan_free(plan);
        n++;
    }
    char cmd[4096], out[16384];
    snprintf(cmd, sizeof cmd, "'%s' report '%s' '%s' --svg '%s/f.svg'", pact_test_cli(), path[0],
             path[1], dir);
    int rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 0, "report with --svg: exit %d", rc);
    /* uniform degree 7 and degree 3 under mpcnn-log: `polyact cost` gives 2.01x and 3.05x */
    CHECK(strstr(out, "front (profile mpcnn-log)") && strstr(out, "2.01x") && strstr(out, "3.05x") &&
              strstr(out, "99.50%") && strstr(out, "98.00%"),
          "front table missing or wrong:\n%s", out);
    char svg[700];
    snprintf(svg, sizeof svg, "%s/f.svg", dir);
    FILE *f = fopen(svg, "rb");
    char head[64] = "";
    if (f) {
        head[fread(head, 1, sizeof head - 1, f)] = '\0';
        fclose(f);
    }
    CHECK(strncmp(head, "<?xml", 5) == 0, "f.svg: '%.20s'", head);
    snprintf(cmd, sizeof cmd, "'%s' report '%s' '%s' 2>&1", pact_test_cli(), path[0], path[2]);
    rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "one model"), "plans of two models: exit %d: %s", rc, out);
    /* --svg naming one of the plans would replace it by the picture */
    snprintf(cmd, sizeof cmd, "'%s' report '%s' '%s' --svg '%s' 2>&1", pact_test_cli(), path[0],
             path[1], path[1]);
    rc = pact_test_run(cmd, out, sizeof out);
    CHECK(rc == 2 && strstr(out, "is the input"), "--svg over a plan: exit %d: %s", rc, out);
    FILE *pf = fopen(path[1], "r");
    CHECK(pf && fgetc(pf) == '{', "--svg over a plan changed %s", path[1]);
    if (pf)
        fclose(pf);
    n += 6;
    for (int k = 0; k < 3; k++)
        unlink(path[k]);
    unlink(svg);
    rmdir(dir);
}

int main(void)
{
    check_picture();
    check_cli();
    return pact_test_done("test_plan_svg", n);
}
