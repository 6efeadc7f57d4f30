/* Throughput of the engine next to PyTorch's, same machine, batch and thread
 * count, in alternating rounds (the machine is shared: the best round of each
 * is reported, with every round printed), plus where the time goes.
 * Args: [threads (2)] [batch (64)] [seconds per round (2)] [rounds (3)] [model]
 *
 * polyact runs as the CLI does: T engine threads sharing each batch. Also
 * measured once: one thread alone, and T independent one-thread forwards at
 * the same time (what the machine gives T threads that never wait for each
 * other: the engine's scaling is judged against it). Then, in alternating
 * rounds, the CPU time per image of each on one thread: on a shared machine
 * the steadiest measure of what one core does. The breakdown is measured on
 * one thread, where the phases can be timed without overlap. */
#include "nn_ref.h"
#include "nn/net_internal.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <time.h>

/* An exact ReLU as a hook: what observing or replacing activations costs. */
static pact_status relu_hook(void *ctx, int layer, float *x, int batch, int channels,
                             int spatial, pact_error *err)
{
    (void)ctx;
    (void)layer;
    (void)err;
    size_t n = (size_t)batch * channels * spatial;
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return PACT_OK;
}

/* Images per second over `seconds`: through pact_net_forward, or (profile set)
 * through the graph on one thread with each phase timed. */
static double polyact_round_hook(const pact_net *net, const float *x, int batch, double seconds,
                                 double *profile, pact_act_hook hook)
{
    const pact_graph *g = pact_net_graph(net);
    float *logits = malloc(sizeof(float) * (size_t)batch * (size_t)g->n_classes);
    pact_graph_io io = {.input = x, .logits = logits, .profile = profile, .hook = hook};
    pact_error err;
#define RUN()                                                                                  \
    (profile ? pact_graph_run(g, 0, g->n_ops, batch, batch, 1, &io, &err)                     \
             : pact_net_forward(net, x, batch, hook, NULL, logits, &err))
    RUN(); /* warm-up */
    for (int i = 0; profile && i < PACT_PROF_COUNT; i++)
        profile[i] = 0.0;
    long done = 0;
    double t0 = pact_seconds(), dt = 1e-9;
    do {
        if (RUN() != PACT_OK) {
            fprintf(stderr, "forward: %s\n", err.message);
            break;
        }
        done += batch;
        dt = pact_seconds() - t0;
    } while (dt < seconds);
#undef RUN
    free(logits);
    for (int i = 0; profile && i < PACT_PROF_COUNT; i++)
        profile[i] /= (double)done; /* seconds per image */
    return (double)done / dt;
}

static double polyact_round(const pact_net *net, const float *x, int batch, double seconds,
                            double *profile)
{
    return polyact_round_hook(net, x, batch, seconds, profile, NULL);
}

typedef struct {
    const pact_net *net;
    const float *x;
    int batch;
    double seconds, images_per_second;
} solo_arg;

static void *solo_main(void *arg)
{
    solo_arg *a = arg;
    a->images_per_second = polyact_round(a->net, a->x, a->batch, a->seconds, NULL);
    return NULL;
}

/* T one-thread forwards of `net` at once, each on its own thread: images/s in all. */
static double independent_rounds(const pact_net *net, const float *x, int batch, double seconds,
                                 int threads)
{
    pthread_t tid[64];
    solo_arg args[64];
    int started = 0;
    for (int t = 0; t < threads && t < 64; t++) {
        args[t] = (solo_arg){net, x, batch, seconds, 0.0};
        if (pthread_create(&tid[t], NULL, solo_main, &args[t]) == 0)
            started++;
        else
            break;
    }
    double sum = 0.0;
    for (int t = 0; t < started; t++) {
        pthread_join(tid[t], NULL);
        sum += args[t].images_per_second;
    }
    CHECK(started == threads, "started %d of %d threads", started, threads);
    return sum;
}

/* Seconds of this thread's CPU time per image over a one-thread round. */
static double polyact_cpu_round(const pact_net *net, const float *x, int batch, double seconds)
{
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    double t0 = pact_seconds();
    double ips = polyact_round(net, x, batch, seconds, NULL);
    double images = ips * (pact_seconds() - t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    return images > 0 ? cpu / images : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Floating-point operations per image that the sgemm calls actually perform
 * (Winograd F(m x m) multiplies (m+2)^2 transformed matrices per m x m tile). */
static double sgemm_flops(const pact_graph *g)
{
    double f = 0.0;
    for (int i = 0; i < g->n_ops; i++) {
        const pact_op *op = &g->ops[i];
        if (op->kind != PACT_OP_CONV)
            continue;
        const int m = op->wino_m;
        if (op->wino)
            f += 2.0 * (m + 2) * (m + 2) * op->out_shape.c * op->in_shape.c *
                 (op->out_shape.h / m) * (op->out_shape.w / m);
        else
            f += 2.0 * op->out_shape.c * op->out_shape.h * op->out_shape.w * op->in_shape.c * 9;
    }
    return f;
}

static pact_net *load(const char *path, int threads)
{
    pact_error err;
    pact_net *net = NULL;
    pact_net_opts o = {.threads = threads};
    CHECK_OK(pact_net_load(path, &o, &net, &err), &err);
    return net;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int batch = argc > 2 ? atoi(argv[2]) : 64;
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    int rounds = argc > 4 ? atoi(argv[4]) : 3;
    /* pact_test_data returns a static buffer: copy each path at once */
    const char *m = argc > 5 ? argv[5] : pact_test_data("models/resnet20.safetensors");
    char *model = m ? strdup(m) : NULL;
    const char *data = pact_test_data("data/cifar-10-batches-bin/test_batch_first1017.bin");
    CHECK(model && data, "shared data missing");
    if (!model || !data)
        return pact_test_done("bench_resnet", 1);

    pact_error err;
    pact_dataset *ds = NULL;
    CHECK_OK(pact_cifar_load(data, PACT_SPLIT_TEST, (size_t)batch, &ds, &err), &err);
    pact_net *net = load(model, threads), *net1 = load(model, 1);
    if (!net || !net1 || !ds)
        return pact_test_done("bench_resnet", 1);
    float *x = malloc(sizeof(float) * (size_t)batch * PACT_CIFAR_IMAGE_SIZE);
    for (int b = 0; b < batch; b += (int)pact_dataset_count(ds)) {
        size_t n = pact_dataset_count(ds) < (size_t)(batch - b) ? pact_dataset_count(ds)
                                                                : (size_t)(batch - b);
        CHECK_OK(pact_dataset_images_f32(ds, 0, n, x + (size_t)b * PACT_CIFAR_IMAGE_SIZE, &err),
                 &err);
    }

    char args[8192];
    snprintf(args, sizeof args, "bench --model %s --threads %d --batch %d --seconds %g", model,
             threads, batch, seconds);
    double best_p = 0.0, best_t = 0.0;
    double *all_p = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
    double *all_t = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
    for (int r = 0; r < rounds; r++) {
        double p = polyact_round(net, x, batch, seconds, NULL);
        best_p = p > best_p ? p : best_p;
        all_p[r] = p;
        char *out = nn_ref_run(args);
        cJSON *j = out ? cJSON_Parse(out) : NULL;
        const cJSON *ips = cJSON_GetObjectItemCaseSensitive(j, "images_per_second");
        CHECK(cJSON_IsNumber(ips), "PyTorch benchmark gave no number");
        double t = cJSON_IsNumber(ips) ? ips->valuedouble : 0.0;
        best_t = t > best_t ? t : best_t;
        all_t[r] = t;
        printf("round %d: polyact %.0f images/s, PyTorch %.0f images/s\n", r + 1, p, t);
        cJSON_Delete(j);
        free(out);
    }
    double p_hook = polyact_round_hook(net, x, batch, seconds, NULL, relu_hook);
    double p_solo = polyact_round(net1, x, batch, seconds, NULL);
    double p_indep = independent_rounds(net1, x, batch, seconds, threads);
    /* one thread, CPU time per image, alternating */
    snprintf(args, sizeof args, "bench --model %s --threads 1 --batch %d --seconds %g", model,
             batch, seconds);
    double *cpu_p = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
    double *cpu_t = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
    for (int r = 0; r < rounds; r++) {
        cpu_p[r] = polyact_cpu_round(net1, x, batch, seconds);
        char *out = nn_ref_run(args);
        cJSON *j = out ? cJSON_Parse(out) : NULL;
        const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(j, "cpu_seconds_per_image");
        CHECK(cJSON_IsNumber(cpu), "PyTorch benchmark gave no CPU time");
        cpu_t[r] = cJSON_IsNumber(cpu) ? cpu->valuedouble : 0.0;
        printf("one-thread round %d: CPU time per image: polyact %.1f us, PyTorch %.1f us\n",
               r + 1, 1e6 * cpu_p[r], 1e6 * cpu_t[r]);
        cJSON_Delete(j);
        free(out);
    }
    double prof[PACT_PROF_COUNT];
    double p_one = polyact_round(net1, x, batch, seconds, prof);

    const pact_graph *g = pact_net_graph(net);
    const double flops = pact_net_flops(net), gemm = sgemm_flops(g);
    printf("%s, batch %d, %d threads, best of %d rounds of %.1f s\n", pact_net_name(net), batch,
           threads, rounds, seconds);
    printf("polyact  %8.0f images/s  (%.1f MFLOP/image as direct convolution: %.1f GFLOP/s)\n",
           best_p, flops * 1e-6, best_p * flops * 1e-9);
    printf("PyTorch  %8.0f images/s\n", best_t);
    printf("ratio    %8.2fx\n", best_t > 0 ? best_p / best_t : 0.0);
    const double med_p = median(all_p, rounds), med_t = median(all_t, rounds);
    printf("medians: polyact %.0f, PyTorch %.0f images/s (ratio %.2fx)\n", med_p, med_t,
           med_t > 0 ? med_p / med_t : 0.0);
    {
        double min_p = cpu_p[0], min_t = cpu_t[0];
        for (int r = 1; r < rounds; r++) {
            min_p = cpu_p[r] < min_p ? cpu_p[r] : min_p;
            min_t = cpu_t[r] < min_t ? cpu_t[r] : min_t;
        }
        const double mp = median(cpu_p, rounds), mt = median(cpu_t, rounds);
        printf("one thread, CPU time per image: polyact %.1f us (median %.1f), PyTorch %.1f us "
               "(median %.1f): ratio %.2fx (medians %.2fx)\n",
               1e6 * min_p, 1e6 * mp, 1e6 * min_t, 1e6 * mt, min_p > 0 ? min_t / min_p : 0.0,
               mp > 0 ? mt / mp : 0.0);
    }
    printf("with a ReLU hook at every layer (run on the caller's thread): %.0f images/s\n",
           p_hook);
    printf("one thread alone: %.0f images/s; %d independent one-thread forwards at once: "
           "%.0f images/s (the machine's scaling %.2fx, the engine's %.2fx)\n",
           p_solo, threads, p_indep, p_solo > 0 ? p_indep / p_solo : 0.0,
           p_solo > 0 ? best_p / p_solo : 0.0);
    printf("one thread in all: %.0f images/s, %.1f us/image:\n", p_one, 1e6 / p_one);
    const char *names[PACT_PROF_COUNT] = {
        "input transform / im2col", "sgemm", "output transform, bias, shortcut, act",
        "activation hooks", "normalize, pool, linear"};
    double sum = 0.0;
    for (int i = 0; i < PACT_PROF_COUNT; i++) {
        sum += prof[i];
        printf("  %-40s %6.1f us/image  %5.1f%%\n", names[i], 1e6 * prof[i],
               100.0 * prof[i] * p_one);
    }
    printf("  %-40s %6.1f us/image  %5.1f%%\n", "rest (allocation, copies)",
           1e6 * (1.0 / p_one - sum), 100.0 * (1.0 - sum * p_one));
    if (prof[1] > 0)
        printf("sgemm performs %.1f MFLOP/image (Winograd) at %.1f GFLOP/s on one thread\n",
               gemm * 1e-6, gemm / prof[1] * 1e-9);
    free(all_p);
    free(all_t);
    free(cpu_p);
    free(cpu_t);
    free(x);
    free(model);
    pact_dataset_free(ds);
    pact_net_free(net);
    pact_net_free(net1);
    return pact_test_done("bench_resnet", 1);
}
