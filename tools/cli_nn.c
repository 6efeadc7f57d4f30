/* Flag handling shared by the network commands: threads, normalisation, loading. */
#define _POSIX_C_SOURCE 200809L
#include "cli_nn.h"
#include "cli_backend.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_threads(const char *cmd, const char *flag_value, int *threads)
{
    long t = cli_backend_default_threads();
    if (flag_value && cli_int(cmd, "threads", flag_value, 1, PACT_NET_MAX_THREADS, &t) != CLI_OK)
        return CLI_USAGE;
    *threads = (int)t;
    return CLI_OK;
}

int cli_triple(const char *cmd, const char *flag, const char *s, double v[3])
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return cli_error(cmd, CLI_USAGE, "--%s: '%s' is too long", flag, s);
    strcpy(buf, s);
    char *parts[3] = {buf, NULL, NULL};
    for (int i = 1; i < 3; i++) {
        char *c = parts[i - 1] ? strchr(parts[i - 1], ',') : NULL;
        if (!c)
            return cli_error(cmd, CLI_USAGE, "--%s: '%s' is not A,B,C", flag, s);
        *c = '\0';
        parts[i] = c + 1;
    }
    for (int i = 0; i < 3; i++)
        if (cli_double(cmd, flag, parts[i], &v[i]) != CLI_OK)
            return CLI_USAGE;
    return CLI_OK;
}

int cli_load_net_and_data(const char *cmd, const cli_net_flags *f, pact_split default_split,
                          pact_net **net, pact_dataset **ds, size_t *max_images, int *batch,
                          int *threads)
{
    pact_error err;
    *net = NULL;
    *ds = NULL;
    if (!f->model)
        return cli_error(cmd, CLI_USAGE, "--model is required (see --help)");
    if (!f->data)
        return cli_error(cmd, CLI_USAGE, "--data is required (see --help)");
    pact_net_opts opts = {0};
    double mean[3], std[3];
    long v;
    if (f->input_mean) {
        if (cli_triple(cmd, "input-mean", f->input_mean, mean) != CLI_OK)
            return CLI_USAGE;
        opts.input_mean = mean;
    }
    if (f->input_std) {
        if (cli_triple(cmd, "input-std", f->input_std, std) != CLI_OK)
            return CLI_USAGE;
        for (int c = 0; c < 3; c++)
            if (!(std[c] > 0))
                return cli_error(cmd, CLI_USAGE, "--input-std: values must be > 0");
        opts.input_std = std;
    }
    if (f->act && pact_func_from_name(f->act, &opts.act, &err) != PACT_OK)
        return cli_error(cmd, CLI_USAGE, "--act: %s", err.message);
    if (f->classes) {
        if (cli_int(cmd, "classes", f->classes, 1, 1000000, &v) != CLI_OK)
            return CLI_USAGE;
        opts.n_classes = (int)v;
    }
    pact_split split = default_split;
    if (f->split && pact_split_from_name(f->split, &split, &err) != PACT_OK)
        return cli_error(cmd, CLI_USAGE, "--split: %s", err.message);
    *max_images = 0;
    if (f->images) {
        if (cli_int(cmd, "images", f->images, 1, 100000000, &v) != CLI_OK)
            return CLI_USAGE;
        *max_images = (size_t)v;
    }
    *batch = 64;
    if (f->batch) {
        if (cli_int(cmd, "batch", f->batch, 1, 4096, &v) != CLI_OK)
            return CLI_USAGE;
        *batch = (int)v;
    }
    if (cli_threads(cmd, f->threads, threads) != CLI_OK)
        return CLI_USAGE;
    opts.threads = *threads;
    if (cli_load_net(f->model, &opts, net, &err) != PACT_OK)
        return cli_lib_error(cmd, &err, 0);
    if (cli_load_dataset(f->data, split, *max_images, ds, &err) != PACT_OK) {
        pact_net_free(*net);
        *net = NULL;
        return cli_lib_error(cmd, &err, 0);
    }
    return CLI_OK;
}

int cli_check_calib(const char *cmd, const char *path, const pact_calib *cal, const pact_net *net)
{
    pact_model m;
    pact_net_model(net, &m);
    pact_error err;
    if (pact_calib_check_model(cal, &m, pact_net_sha256(net), &err) != PACT_OK)
        return cli_error(cmd, CLI_RUNTIME, "%s: %s", path, err.message);
    return CLI_OK;
}

void cli_progress(void *ctx, size_t done, size_t total)
{
    fprintf(stderr, "\rpolyact %s: %3.0f%% (%zu/%zu)", (const char *)ctx,
            total ? 100.0 * (double)done / (double)total : 100.0, done, total);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}
