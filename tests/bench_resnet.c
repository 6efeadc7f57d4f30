/* Throughput of the engine on ResNet-20 next to PyTorch's, same machine, same
 * batch and thread count, measured in alternating rounds (the machine is
 * shared: the best round of each is reported), with a time breakdown.
 * Args: [threads (2)] [batch (64)] [seconds per round (2)] [rounds (3)] [model] */
#include "nn_ref.h"
#include "nn/net_internal.h"

#include <cblas.h>
#include <cjson/cJSON.h>

static double polyact_round(const pact_net *net, const float *x, int batch, double seconds,
                            double *profile, double *wall)
{
    const pact_graph *g = pact_net_graph(net);
    float *logits = malloc(sizeof(float) * (size_t)batch * (size_t)g->n_classes);
    pact_graph_io io = {.input = x, .logits = logits, .profile = profile};
    pact_error err;
    pact_graph_run(g, 0, g->n_ops, batch, batch, &io, &err); /* warm-up */
    for (int i = 0; i < PACT_PROF_COUNT; i++)
        profile[i] = 0.0;
    long done = 0;
    double t0 = pact_seconds(), dt = 1e-9;
    do {
        if (pact_graph_run(g, 0, g->n_ops, batch, batch, &io, &err) != PACT_OK) {
            fprintf(stderr, "forward: %s\n", err.message);
            break;
        }
        done += batch;
        dt = pact_seconds() - t0;
    } while (dt < seconds);
    free(logits);
    *wall = dt;
    return (double)done / dt;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int batch = argc > 2 ? atoi(argv[2]) : 64;
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    int rounds = argc > 4 ? atoi(argv[4]) : 3;
    /* pact_test_data returns a static buffer: copy each path at once */
    const char *m = argc > 5 ? argv[5] : pact_test_data("models/resnet20.safetensors");
    char *model_path = m ? strdup(m) : NULL;
    const char *data = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    CHECK(model_path && data, "shared data missing");
    if (!model_path || !data)
        return pact_test_done("bench_resnet", 1);
    openblas_set_num_threads(threads);

    pact_error err;
    pact_net *net = NULL;
    pact_dataset *ds = NULL;
    pact_net_opts no = {.max_batch = batch};
    CHECK_OK(pact_net_load(model_path, &no, &net, &err), &err);
    CHECK_OK(pact_cifar_load(data, PACT_SPLIT_TEST, (size_t)batch, &ds, &err), &err);
    if (!net || !ds)
        return pact_test_done("bench_resnet", 1);
    float *x = malloc(sizeof(float) * (size_t)batch * PACT_CIFAR_IMAGE_SIZE);
    CHECK_OK(pact_dataset_images_f32(ds, 0, (size_t)batch, x, &err), &err);

    double best_p = 0.0, best_t = 0.0, prof[PACT_PROF_COUNT] = {0}, best_prof[PACT_PROF_COUNT] = {0},
           best_wall = 1.0;
    char args[8192];
    snprintf(args, sizeof args, "bench --model %s --threads %d --batch %d --seconds %g",
             model_path, threads, batch, seconds);
    for (int r = 0; r < rounds; r++) {
        double wall;
        double p = polyact_round(net, x, batch, seconds, prof, &wall);
        if (p > best_p) {
            best_p = p;
            best_wall = wall;
            memcpy(best_prof, prof, sizeof prof);
        }
        char *out = nn_ref_run(args);
        cJSON *j = out ? cJSON_Parse(out) : NULL;
        const cJSON *ips = cJSON_GetObjectItemCaseSensitive(j, "images_per_second");
        CHECK(cJSON_IsNumber(ips), "PyTorch benchmark gave no number");
        if (cJSON_IsNumber(ips) && ips->valuedouble > best_t)
            best_t = ips->valuedouble;
        printf("round %d: polyact %.0f images/s, PyTorch %.0f images/s\n", r + 1, p,
               cJSON_IsNumber(ips) ? ips->valuedouble : 0.0);
        cJSON_Delete(j);
        free(out);
    }
    double flops = pact_net_flops(net);
    printf("%s, batch %d, %d threads, best of %d rounds of %.1f s\n", pact_net_name(net), batch,
           threads, rounds, seconds);
    printf("polyact  %8.0f images/s  (%.1f GFLOP/s, %.1f MFLOP/image)\n", best_p,
           best_p * flops * 1e-9, flops * 1e-6);
    printf("PyTorch  %8.0f images/s\n", best_t);
    printf("ratio    %8.2fx\n", best_t > 0 ? best_p / best_t : 0.0);
    const char *names[PACT_PROF_COUNT] = {"im2col", "sgemm", "conv epilogue (bias, shortcut, act)",
                                          "activation hooks", "normalize, pool, linear"};
    double sum = 0.0;
    for (int i = 0; i < PACT_PROF_COUNT; i++)
        sum += best_prof[i];
    printf("time per image (best round): %.1f us\n", 1e6 / best_p);
    for (int i = 0; i < PACT_PROF_COUNT; i++)
        printf("  %-38s %5.1f%%  %7.1f us/image\n", names[i], 100.0 * best_prof[i] / best_wall,
               1e6 * best_prof[i] / best_wall / best_p);
    printf("  %-38s %5.1f%%\n", "unaccounted (allocation, timers)",
           100.0 * (best_wall - sum) / best_wall);
    if (best_prof[PACT_PROF_SGEMM] > 0)
        printf("sgemm alone runs at %.1f GFLOP/s\n",
               best_p * flops * 1e-9 * best_wall / best_prof[PACT_PROF_SGEMM]);
    free(x);
    free(model_path);
    pact_dataset_free(ds);
    pact_net_free(net);
    return pact_test_done("bench_resnet", 1);
}
