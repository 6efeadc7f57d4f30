/* The MPI backend of the CLI (polyact-mpi): every rank runs the same
 * subcommand; rank 0 reads each input once and broadcasts it, and alone
 * prints and writes. */
#define _POSIX_C_SOURCE 200809L
#include "../cli.h"
#include "../cli_backend.h"
#include "mpi_driver.h"

#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INPUT ((size_t)1 << 34) /* 16 GiB: any model or data file */
#define BCAST_PIECE ((size_t)1 << 30)

static int g_rank, g_size, g_started;
static const char *g_command = "";

int mpi_rank(void) { return g_rank; }
int mpi_size(void) { return g_size; }
const char *mpi_command(void) { return g_command; }

/* When another rank dies, mpirun stops the job with SIGTERM: rank 0 then
 * says so in one line (mpirun's own report names the rank) and leaves no
 * output (files are only ever renamed into place when complete). */
static char g_term_message[256];

static void on_terminate(int sig)
{
    (void)sig;
    ssize_t w = write(2, g_term_message, strlen(g_term_message));
    (void)w;
    _exit(CLI_RUNTIME);
}

static void install_terminate_handler(const char *cmd)
{
    snprintf(g_term_message, sizeof g_term_message,
             "polyact %s: stopped by the MPI launcher (a rank failed or the job was cancelled: "
             "see its report); no output written\n", cmd);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_terminate;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_backend_init(int *argc, char ***argv)
{
    int provided = 0;
    /* rank 0's scheduler runs in the main thread, its worker in a second one
     * that never calls MPI: FUNNELED is all that is needed */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "polyact: MPI_Init_thread failed\n");
        return CLI_RUNTIME;
    }
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (g_rank != 0 && !freopen("/dev/null", "w", stdout)) /* rank 0 speaks for the job */
        return cli_backend_finish(CLI_RUNTIME);
    if (provided < MPI_THREAD_FUNNELED) {
        cli_error("mpi", CLI_RUNTIME, "this MPI library does not support threads (MPI_THREAD_FUNNELED)");
        return cli_backend_finish(CLI_RUNTIME);
    }
    if (*argc >= 2) {
        const char *cmd = (*argv)[1];
        g_command = cmd;
        int help = strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
                   strcmp(cmd, "help") == 0 || strcmp(cmd, "--version") == 0;
        if (!help && strcmp(cmd, "calibrate") != 0 && strcmp(cmd, "eval") != 0 &&
            strcmp(cmd, "optimize") != 0) {
            cli_error(cmd, CLI_USAGE, "runs on one process; start it without mpirun "
                                      "(calibrate, eval and optimize spread over MPI processes)");
            return cli_backend_finish(CLI_USAGE);
        }
    }
    if (g_rank == 0)
        install_terminate_handler(g_command[0] ? g_command : "mpi");
    return -1;
}

int cli_backend_finish(int rc)
{
    if (g_started) {
        fflush(stdout);
        MPI_Finalize();
        g_started = 0;
    }
    return rc;
}

int cli_backend_root(void) { return g_rank == 0; }
int cli_backend_distributed(void) { return 1; }

int cli_backend_default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!local)
        local = getenv("MPI_LOCALNRANKS"); /* MPICH */
    long ranks = local ? strtol(local, NULL, 10) : g_size;
    long t = cpus / (ranks > 0 ? ranks : 1);
    return t < 1 ? 1 : t > PACT_NET_MAX_THREADS ? PACT_NET_MAX_THREADS : (int)t;
}

pact_status mpi_agree(pact_status st, pact_error *err)
{
    int mine = st != PACT_OK ? g_rank : g_size, first = g_size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == g_size)
        return PACT_OK;
    struct {
        int status;
        char message[PACT_ERROR_MESSAGE_MAX];
    } m = {(int)st, ""};
    if (g_rank == first && err)
        snprintf(m.message, sizeof m.message, "%s", err->message);
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD);
    m.message[sizeof m.message - 1] = '\0';
    if (err) {
        err->status = (pact_status)m.status;
        if (first == 0)
            snprintf(err->message, sizeof err->message, "%s", m.message);
        else
            snprintf(err->message, sizeof err->message, "rank %d: %.490s", first, m.message);
    }
    return (pact_status)m.status;
}

pact_status mpi_share_bytes(pact_status st, char **data, size_t *size, pact_error *err)
{
    if (g_rank != 0)
        st = PACT_OK;
    st = mpi_agree(st, err);
    if (st != PACT_OK) {
        if (g_rank == 0)
            free(*data);
        *data = NULL;
        return st;
    }
    unsigned long long n = g_rank == 0 ? (unsigned long long)*size : 0;
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (g_rank != 0) {
        *size = (size_t)n;
        *data = malloc((size_t)n + 1);
    }
    st = *data ? PACT_OK : cli_fail(err, PACT_ENOMEM, "out of memory for %llu bytes", n);
    st = mpi_agree(st, err);
    if (st != PACT_OK) {
        free(*data);
        *data = NULL;
        return st;
    }
    for (size_t off = 0; off < (size_t)n; off += BCAST_PIECE) {
        size_t len = (size_t)n - off < BCAST_PIECE ? (size_t)n - off : BCAST_PIECE;
        MPI_Bcast(*data + off, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
    if (g_rank != 0)
        (*data)[n] = '\0';
    return PACT_OK;
}

void mpi_bcast_doubles(double *v, size_t n)
{
    for (size_t off = 0; off < n; off += BCAST_PIECE / 8) {
        size_t len = n - off < BCAST_PIECE / 8 ? n - off : BCAST_PIECE / 8;
        MPI_Bcast(v + off, (int)len, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    }
}

void mpi_bcast_ints(int *v, size_t n)
{
    MPI_Bcast(v, (int)n, MPI_INT, 0, MPI_COMM_WORLD);
}

void mpi_allreduce_counts(uint64_t *counts, size_t n)
{
    for (size_t off = 0; off < n; off += BCAST_PIECE / 8) {
        size_t len = n - off < BCAST_PIECE / 8 ? n - off : BCAST_PIECE / 8;
        MPI_Allreduce(MPI_IN_PLACE, counts + off, (int)len, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    }
}

/* ---- inputs: read on rank 0, broadcast, parsed everywhere ---- */

pact_status cli_read_file(const char *path, size_t max_size, char **data, size_t *size,
                          pact_error *err)
{
    *data = NULL;
    *size = 0;
    pact_status st = PACT_OK;
    if (g_rank == 0)
        st = cli_read_local_file(path, max_size, data, size, err);
    return mpi_share_bytes(st, data, size, err);
}

pact_status cli_load_net(const char *path, const pact_net_opts *opts, pact_net **net,
                         pact_error *err)
{
    *net = NULL;
    char *bytes;
    size_t size;
    pact_status st = cli_read_file(path, MAX_INPUT, &bytes, &size, err);
    if (st != PACT_OK)
        return st;
    st = pact_net_load_memory(bytes, size, path, opts, net, err);
    free(bytes);
    if ((st = mpi_agree(st, err)) != PACT_OK) {
        pact_net_free(*net); /* another rank failed */
        *net = NULL;
    }
    return st;
}

pact_status cli_load_dataset(const char *path, pact_split split, size_t max_images,
                             pact_dataset **ds, pact_error *err)
{
    *ds = NULL;
    pact_status st = PACT_OK;
    char *bytes = NULL;
    size_t size = 0;
    if (g_rank == 0) {
        st = pact_cifar_load(path, split, max_images, ds, err);
        const unsigned char *r = st == PACT_OK ? pact_dataset_records(*ds, &size) : NULL;
        if (r && !(bytes = malloc(size)))
            st = cli_fail(err, PACT_ENOMEM, "%s: out of memory", path);
        if (bytes)
            memcpy(bytes, r, size);
    }
    st = mpi_share_bytes(st, &bytes, &size, err);
    if (st == PACT_OK && g_rank != 0)
        st = pact_dataset_from_records(bytes, size, path, ds, err);
    free(bytes);
    st = mpi_agree(st, err);
    if (st != PACT_OK) {
        pact_dataset_free(*ds);
        *ds = NULL;
    }
    return st;
}

pact_status cli_load_calib(const char *path, pact_calib **calib, pact_error *err)
{
    *calib = NULL;
    char *text;
    size_t size;
    pact_status st = cli_read_file(path, MAX_INPUT, &text, &size, err);
    if (st != PACT_OK)
        return st;
    st = pact_calib_parse(text, size, path, calib, err);
    free(text);
    if ((st = mpi_agree(st, err)) != PACT_OK) {
        pact_calib_free(*calib); /* another rank failed */
        *calib = NULL;
    }
    return st;
}

pact_status cli_load_plan(const char *path, pact_plan **plan, pact_error *err)
{
    *plan = NULL;
    char *text;
    size_t size;
    pact_status st = cli_read_file(path, MAX_INPUT, &text, &size, err);
    if (st != PACT_OK)
        return st;
    st = pact_plan_parse(text, size, path, plan, err);
    free(text);
    if ((st = mpi_agree(st, err)) != PACT_OK) {
        pact_plan_free(*plan); /* another rank failed */
        *plan = NULL;
    }
    return st;
}

pact_status cli_load_profile(const char *path, pact_cost_profile **profile, pact_error *err)
{
    *profile = NULL;
    if (!path) {
        pact_status st = mpi_agree(pact_cost_profile_default(profile, err), err);
        if (st != PACT_OK) {
            pact_cost_profile_free(*profile);
            *profile = NULL;
        }
        return st;
    }
    char *text;
    size_t size;
    pact_status st = cli_read_file(path, (size_t)1 << 20, &text, &size, err);
    if (st != PACT_OK)
        return st;
    st = pact_cost_profile_parse(text, size, path, profile, err);
    free(text);
    if ((st = mpi_agree(st, err)) != PACT_OK) {
        pact_cost_profile_free(*profile); /* another rank failed */
        *profile = NULL;
    }
    return st;
}
