/* An SVG picture of a plan: its per-layer degrees, and the accuracy-vs-latency
 * front of a budget sweep (one point per plan of the sweep). Plain SVG 1.1, no
 * scripts or external references, so any browser or converter shows it. */
#include "export_internal.h"
#include "file_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { WIDTH = 760, LEFT = 64, RIGHT = 24, BARS_TOP = 48, BARS_H = 170, NAMES_H = 90,
       FRONT_H = 220 };

/* Length of the well-formed UTF-8 sequence at s (no overlongs, surrogates or
 * code points past U+10FFFF), 0 if it is not one. */
static int utf8_length(const unsigned char *s)
{
    unsigned c = s[0];
    int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (c >= 0xf5)
        len = 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* Text content with the five XML specials escaped; names come from model files. */
static void put_escaped(export_text *t, const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            /* the document is UTF-8: a byte outside a well-formed sequence
             * would make it ill-formed */
            int len = utf8_length((const unsigned char *)s);
            if (len == 0) {
                export_text_printf(t, "?");
            } else {
                export_text_printf(t, "%.*s", len, s);
                s += len - 1;
            }
            continue;
        }
        switch (*s) {
        case '&': export_text_printf(t, "&amp;"); break;
        case '<': export_text_printf(t, "&lt;"); break;
        case '>': export_text_printf(t, "&gt;"); break;
        case '"': export_text_printf(t, "&quot;"); break;
        case '\'': export_text_printf(t, "&apos;"); break;
        default:
            /* control bytes are not allowed in XML 1.0 text */
            export_text_printf(t, "%c", (unsigned char)*s < 0x20 ? '?' : *s);
        }
    }
}

static void bars(export_text *t, const pact_plan *plan)
{
    int n = pact_plan_layer_count(plan), max_depth = 1;
    for (int i = 0; i < n; i++) {
        pact_plan_layer l;
        if (pact_plan_layer_get(plan, i, &l, NULL) == PACT_OK && l.depth > max_depth)
            max_depth = l.depth;
    }
    double plot_w = WIDTH - LEFT - RIGHT, bw = plot_w / n, unit = (double)BARS_H / max_depth;
    double base = BARS_TOP + BARS_H;
    export_text_printf(t, "<text x=\"%d\" y=\"24\" class=\"title\">Per-layer polynomials of ", LEFT);
    put_escaped(t, pact_plan_model_name(plan));
    export_text_printf(t, " (bar: levels consumed; label: degree)</text>\n"
                          "<text x=\"%d\" y=\"38\" class=\"tick\">blue: one polynomial per layer; "
                          "green: one per channel; red: composite</text>\n", LEFT);
    for (int d = 0; d <= max_depth; d++) {
        double y = base - d * unit;
        export_text_printf(t, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                              "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%d</text>\n",
                           LEFT, y, WIDTH - RIGHT, y, LEFT - 6, y + 3, d);
    }
    for (int i = 0; i < n; i++) {
        pact_plan_layer l;
        if (pact_plan_layer_get(plan, i, &l, NULL) != PACT_OK)
            continue;
        const char *kind = l.form == PACT_FORM_COMPOSITE ? "composite"
                           : l.n_channels > 0            ? "channels"
                                                         : "poly";
        double x = LEFT + i * bw, h = l.depth * unit;
        export_text_printf(t, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                              "height=\"%.1f\"><title>",
                           kind, x + 0.1 * bw, base - h, 0.8 * bw, h);
        put_escaped(t, l.name);
        export_text_printf(t, ": depth %d</title></rect>\n<text x=\"%.1f\" y=\"%.1f\" "
                              "class=\"label\" text-anchor=\"middle\">",
                           l.depth, x + 0.5 * bw, base - h - 3);
        for (int k = 0; k < l.n_parts; k++)
            export_text_printf(t, "%s%d", k ? "," : "", l.degrees[k]);
        export_text_printf(t, "</text>\n<text class=\"name\" transform=\"translate(%.1f %.1f) "
                              "rotate(-60)\" text-anchor=\"end\">",
                           x + 0.5 * bw, base + 10);
        put_escaped(t, l.name);
        export_text_printf(t, "</text>\n");
    }
}

/* Maps v in [lo, hi] to [p0, p1]. */
static double scale(double v, double lo, double hi, double p0, double p1)
{
    return p0 + (v - lo) / (hi - lo) * (p1 - p0);
}

static int by_latency(const void *a, const void *b)
{
    const pact_front_point *p = a, *q = b;
    return (p->latency_s > q->latency_s) - (p->latency_s < q->latency_s);
}

static void front(export_text *t, const pact_front_point *pts, int n, double baseline_s,
                  const char *profile, const char *what, int top)
{
    double x_hi = baseline_s > 0 ? baseline_s : 0.0, y_lo = 100.0, y_hi = 0.0;
    for (int i = 0; i < n; i++) {
        x_hi = fmax(x_hi, pts[i].latency_s);
        y_lo = fmin(y_lo, pts[i].accuracy);
        y_hi = fmax(y_hi, pts[i].accuracy);
    }
    x_hi *= 1.08;
    y_lo = fmax(0.0, floor(y_lo - 0.5));
    y_hi = fmin(100.0, ceil(y_hi + 0.5));
    if (y_hi <= y_lo)
        y_hi = y_lo + 1.0;
    double x0 = LEFT, x1 = WIDTH - RIGHT, y0 = top + FRONT_H, y1 = top + 20;
    export_text_printf(t, "<text x=\"%d\" y=\"%d\" class=\"title\">Accuracy vs estimated HE "
                          "latency (profile ", LEFT, top);
    put_escaped(t, profile ? profile : "unknown");
    export_text_printf(t, ")</text>\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "class=\"axis\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "class=\"axis\"/>\n",
                       x0, y0, x1, y0, x0, y0, x0, y1);
    for (int k = 0; k <= 4; k++) {
        double v = x_hi * k / 4, x = scale(v, 0, x_hi, x0, x1);
        double a = y_lo + (y_hi - y_lo) * k / 4, y = scale(a, y_lo, y_hi, y0, y1);
        export_text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">"
                              "%.0f s</text><text x=\"%.1f\" y=\"%.1f\" class=\"tick\" "
                              "text-anchor=\"end\">%.1f%%</text>\n",
                           x, y0 + 14, v, x0 - 6, y + 3, a);
    }
    export_text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">"
                          "estimated latency</text><text class=\"tick\" text-anchor=\"middle\" "
                          "transform=\"translate(14 %.1f) rotate(-90)\">",
                       0.5 * (x0 + x1), y0 + 28, 0.5 * (y0 + y1));
    put_escaped(t, what ? what : "accuracy");
    export_text_printf(t, "</text>\n");
    if (baseline_s > 0) {
        double x = scale(baseline_s, 0, x_hi, x0, x1);
        export_text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "class=\"baseline\"/><text x=\"%.1f\" y=\"%.1f\" class=\"label\" "
                              "text-anchor=\"end\">uniform baseline %.0f s</text>\n",
                           x, y0, x, y1, x - 4, y1 + 10, baseline_s);
    }
    export_text_printf(t, "<polyline class=\"front\" points=\"");
    for (int i = 0; i < n; i++)
        export_text_printf(t, "%s%.1f,%.1f", i ? " " : "", scale(pts[i].latency_s, 0, x_hi, x0, x1),
                           scale(pts[i].accuracy, y_lo, y_hi, y0, y1));
    export_text_printf(t, "\"/>\n");
    for (int i = 0; i < n; i++) {
        double x = scale(pts[i].latency_s, 0, x_hi, x0, x1);
        double y = scale(pts[i].accuracy, y_lo, y_hi, y0, y1);
        export_text_printf(t, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>"
                              "%.1f s, %d bootstrappings, %.2f%%</title></circle>\n",
                           x, y, pts[i].latency_s, pts[i].bootstraps, pts[i].accuracy);
        export_text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\">", x + 6, y - 6);
        put_escaped(t, pts[i].label ? pts[i].label : "");
        export_text_printf(t, "</text>\n");
    }
}

pact_status pact_plan_svg(const pact_plan *plan, const pact_front_point *points, int n_points,
                          double baseline_latency_s, const char *profile_name,
                          const char *accuracy_what, char **text, pact_error *err)
{
    *text = NULL;
    if (!plan || n_points < 0 || (n_points > 0 && !points) || n_points > PACT_SVG_MAX_POINTS)
        return pact_fail(err, PACT_EINVAL, "plan svg: no plan, or %d points (0..%d)", n_points,
                         PACT_SVG_MAX_POINTS);
    if (n_points > 0 && !(isfinite(baseline_latency_s) && baseline_latency_s >= 0))
        return pact_fail(err, PACT_EINVAL, "plan svg: baseline latency %g s", baseline_latency_s);
    for (int i = 0; i < n_points; i++) {
        const pact_front_point *p = &points[i];
        if (!(isfinite(p->latency_s) && p->latency_s > 0) ||
            !(p->accuracy >= 0 && p->accuracy <= 100) || p->bootstraps < 0)
            return pact_fail(err, PACT_EINVAL,
                             "plan svg: point %d (%s): latency %g s, accuracy %g%%, %d "
                             "bootstrappings",
                             i, p->label ? p->label : "", p->latency_s, p->accuracy, p->bootstraps);
    }
    for (int i = 0; i < pact_plan_layer_count(plan); i++)
        if (pact_plan_layer_get(plan, i, &(pact_plan_layer){0}, err) != PACT_OK)
            return PACT_EINVAL;
    pact_front_point *sorted = NULL;
    if (n_points > 0) {
        sorted = malloc((size_t)n_points * sizeof *sorted);
        if (!sorted)
            return pact_fail(err, PACT_ENOMEM, "plan svg: out of memory");
        memcpy(sorted, points, (size_t)n_points * sizeof *sorted);
        qsort(sorted, (size_t)n_points, sizeof *sorted, by_latency);
    }
    int front_top = BARS_TOP + BARS_H + NAMES_H + 24;
    int height = n_points > 0 ? front_top + FRONT_H + 44 : BARS_TOP + BARS_H + NAMES_H;
    export_text t = {0};
    export_text_printf(&t,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                       "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
                       "<style>.title{font-size:13px;font-weight:bold}.tick{font-size:10px;"
                       "fill:#555}.label{font-size:9px}.name{font-size:8px;fill:#333}"
                       ".grid{stroke:#ddd}.axis{stroke:#333}.bar.poly{fill:#4a7ab5}"
                       ".bar.channels{fill:#5a9e6f}.bar.composite{fill:#b5654a}"
                       ".baseline{stroke:#b5654a;stroke-dasharray:4 3}.front{fill:none;"
                       "stroke:#4a7ab5}.point{fill:#4a7ab5}</style>\n"
                       "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                       WIDTH, height, WIDTH, height);
    bars(&t, plan);
    if (n_points > 0)
        front(&t, sorted, n_points, baseline_latency_s, profile_name, accuracy_what, front_top);
    export_text_printf(&t, "</svg>\n");
    free(sorted);
    if (t.failed) {
        free(t.s);
        return pact_fail(err, PACT_ENOMEM, "plan svg: out of memory");
    }
    *text = t.s;
    return PACT_OK;
}

pact_status pact_plan_svg_save(const pact_plan *plan, const pact_front_point *points,
                               int n_points, double baseline_latency_s, const char *profile_name,
                               const char *accuracy_what, const char *path, pact_error *err)
{
    char *text = NULL;
    pact_status st = pact_plan_svg(plan, points, n_points, baseline_latency_s, profile_name,
                                   accuracy_what, &text, err);
    if (st == PACT_OK)
        st = pact_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}
