/* Dynamic scheduling of a job's items over the ranks of an MPI job.
 *
 * Rank 0's main thread is the scheduler: it answers each request with the
 * next item (or "stop"), receives results, and otherwise sleeps briefly so
 * it does not take a core from the workers; a second thread of rank 0
 * computes items like any other rank. A worker asks for its next item before
 * computing the current one, so the answer arrives while it computes and a
 * busy or slow-to-wake scheduler costs it nothing. Results land in rank 0's
 * table at their item's place, so the merge that follows (in item order)
 * does not depend on who computed what, or when. */
#define _POSIX_C_SOURCE 200809L
#include "../cli.h"
#include "../cli_backend.h"
#include "mpi_driver.h"

#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { TAG_REQUEST = 101, TAG_RESULT = 102, TAG_ERRTEXT = 103, TAG_ITEM = 104 };

/* A result's status field when the worker gave the item back uncomputed
 * (after a failure of its own: the job is failing anyway). */
#define STATUS_SKIPPED 1.0

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- fault injection for the tests: POLYACT_MPI_FAIL=RANK:ITEMS:MODE makes
 * rank RANK fail after computing ITEMS items (over all phases), MODE
 * "error" (an error like any library failure), "exit" (the process ends
 * abruptly) or "kill" (SIGKILL, as if killed from outside). ---- */

static long g_items_done; /* on this rank, over all phases (one computing thread) */

static pact_status injected_failure(pact_error *err)
{
    const char *spec = getenv("POLYACT_MPI_FAIL");
    if (!spec)
        return PACT_OK;
    long rank, after;
    char mode[16] = "";
    if (sscanf(spec, "%ld:%ld:%15s", &rank, &after, mode) != 3 || rank != mpi_rank() ||
        g_items_done < after)
        return PACT_OK;
    if (strcmp(mode, "exit") == 0)
        _exit(3);
    if (strcmp(mode, "kill") == 0)
        raise(SIGKILL);
    return cli_fail(err, PACT_ECALLBACK, "injected failure after %ld items (POLYACT_MPI_FAIL)",
                    g_items_done);
}

static pact_status compute_item(const mpi_items *job, size_t item, double *row, pact_error *err)
{
    pact_status st = injected_failure(err);
    if (st == PACT_OK)
        st = job->compute(job->ctx, item, row, err);
    g_items_done++;
    return st;
}

/* ---- rank 0: the scheduler ---- */

typedef struct {
    pthread_mutex_t lock;
    const mpi_items *job;
    double *table;
    size_t next;            /* in-order mode */
    size_t n_groups;
    size_t *group_next;     /* group mode: next item offset in each group */
    int *rank_group;        /* group each rank works on, -1 none */
    size_t done;
    size_t *per_rank;       /* items computed by each rank (for the progress line) */
    int stopped;            /* after a failure: hand out nothing more */
    pact_status status;     /* first failure */
    int fail_rank;
    char message[PACT_ERROR_MESSAGE_MAX];
} scheduler;

static size_t group_size(const scheduler *s, size_t g)
{
    size_t first = g * s->job->group;
    return s->job->n_items - first < s->job->group ? s->job->n_items - first : s->job->group;
}

/* The next item for `rank`, or -1. Called with the lock held. */
static long long next_item(scheduler *s, int rank)
{
    if (s->stopped)
        return -1;
    if (!s->job->group)
        return s->next < s->job->n_items ? (long long)s->next++ : -1;
    int g = s->rank_group[rank];
    if (g < 0 || s->group_next[g] >= group_size(s, (size_t)g)) {
        size_t best = 0;
        g = -1;
        for (size_t k = 0; k < s->n_groups; k++) {
            size_t left = group_size(s, k) - s->group_next[k];
            if (left > best) {
                best = left;
                g = (int)k;
            }
        }
        if (g < 0)
            return -1;
        s->rank_group[rank] = g;
    }
    return (long long)((size_t)g * s->job->group + s->group_next[g]++);
}

static void record_failure(scheduler *s, int rank, pact_status st, const char *message)
{
    if (s->status == PACT_OK) {
        s->status = st;
        s->fail_rank = rank;
        snprintf(s->message, sizeof s->message, "%s", message);
    }
    s->stopped = 1;
}

static int progress_wanted(void)
{
    const char *v = getenv("POLYACT_PROGRESS");
    return (v && *v && strcmp(v, "0") != 0) || cli_stderr_is_tty();
}

/* Rank 0's worker thread: items from the scheduler, like any other rank. */
static void *local_worker(void *arg)
{
    scheduler *s = arg;
    const mpi_items *job = s->job;
    pact_error err;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        long long item = next_item(s, 0);
        pthread_mutex_unlock(&s->lock);
        if (item < 0)
            break;
        double *row = s->table + (size_t)item * job->row_size;
        err.message[0] = '\0';
        pact_status st = compute_item(job, (size_t)item, row, &err);
        pthread_mutex_lock(&s->lock);
        if (st != PACT_OK) {
            record_failure(s, 0, st, err.message);
        } else {
            s->done++;
            s->per_rank[0]++;
        }
        pthread_mutex_unlock(&s->lock);
        if (st != PACT_OK)
            break;
    }
    return NULL;
}

/* A few bytes the protocol cannot do without: failing here ends the job. */
static void *must_alloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p) {
        fprintf(stderr, "polyact %s: rank %d: out of memory for the item scheduler\n",
                mpi_command(), mpi_rank());
        MPI_Abort(MPI_COMM_WORLD, CLI_RUNTIME);
    }
    return p;
}

/* "items per rank: 40 38" (up to 16 ranks), for the progress line. */
static char g_balance[160];

static void describe_balance(const size_t *per_rank, int size)
{
    int len = snprintf(g_balance, sizeof g_balance, "; items per rank:");
    for (int r = 0; r < size && r < 16 && len > 0 && (size_t)len < sizeof g_balance; r++)
        len += snprintf(g_balance + len, sizeof g_balance - (size_t)len, " %zu", per_rank[r]);
    if (size > 16 && len > 0 && (size_t)len < sizeof g_balance)
        snprintf(g_balance + len, sizeof g_balance - (size_t)len, " ...");
}

static pact_status run_root(const mpi_items *job, double *table, pact_error *err)
{
    const int size = mpi_size();
    scheduler s = {.job = job, .table = table, .status = PACT_OK};
    pthread_mutex_init(&s.lock, NULL);
    size_t msg_len = 2 + job->row_size;
    double *msg = must_alloc(msg_len * sizeof *msg);
    s.rank_group = must_alloc((size_t)size * sizeof *s.rank_group);
    s.per_rank = must_alloc((size_t)size * sizeof *s.per_rank);
    if (job->group) {
        s.n_groups = (job->n_items + job->group - 1) / job->group;
        s.group_next = must_alloc(s.n_groups * sizeof *s.group_next);
    }
    for (int r = 0; r < size; r++)
        s.rank_group[r] = -1;
    pthread_t thread;
    int have_thread = pthread_create(&thread, NULL, local_worker, &s) == 0;
    if (!have_thread)
        record_failure(&s, 0, PACT_ENOMEM, "cannot start rank 0's worker thread");
    int tty = cli_stderr_is_tty() && progress_wanted();
    size_t shown = (size_t)-1;
    /* per rank: items handed out and not yet answered; "stop" sent */
    int *outstanding = must_alloc((size_t)size * sizeof *outstanding);
    char *stopped = must_alloc((size_t)size);
    int active = size - 1;
    while (active > 0) {
        MPI_Status ms;
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ms);
        if (!flag) {
            if (tty) {
                pthread_mutex_lock(&s.lock);
                size_t d = s.done;
                pthread_mutex_unlock(&s.lock);
                if (d != shown) {
                    fprintf(stderr, "\rpolyact %s: %s %zu/%zu ", mpi_command(), job->phase, d,
                            job->n_items);
                    shown = d;
                }
            }
            struct timespec pause = {0, 200000}; /* 0.2 ms: answers stay quick, the core free */
            nanosleep(&pause, NULL);
            continue;
        }
        int src = ms.MPI_SOURCE;
        if (ms.MPI_TAG == TAG_REQUEST) {
            char dummy;
            MPI_Recv(&dummy, 1, MPI_CHAR, src, TAG_REQUEST, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            pthread_mutex_lock(&s.lock);
            long long next = next_item(&s, src);
            pthread_mutex_unlock(&s.lock);
            MPI_Send(&next, 1, MPI_LONG_LONG, src, TAG_ITEM, MPI_COMM_WORLD);
            if (next >= 0)
                outstanding[src]++;
            else
                stopped[src] = 1;
        } else if (ms.MPI_TAG == TAG_RESULT) {
            MPI_Recv(msg, (int)msg_len, MPI_DOUBLE, src, TAG_RESULT, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            outstanding[src]--;
            if (msg[1] == STATUS_SKIPPED) {
                /* given back after the worker's own failure */
            } else if (msg[1] != 0.0) {
                char text[PACT_ERROR_MESSAGE_MAX];
                MPI_Recv(text, (int)sizeof text, MPI_CHAR, src, TAG_ERRTEXT, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
                text[sizeof text - 1] = '\0';
                pthread_mutex_lock(&s.lock);
                record_failure(&s, src, (pact_status)(int)msg[1], text);
                pthread_mutex_unlock(&s.lock);
            } else {
                size_t item = (size_t)msg[0];
                if (item < job->n_items && job->row_size)
                    memcpy(table + item * job->row_size, msg + 2, job->row_size * sizeof *table);
                pthread_mutex_lock(&s.lock);
                s.done++;
                s.per_rank[src]++;
                pthread_mutex_unlock(&s.lock);
            }
        } else {
            fprintf(stderr, "polyact %s: rank 0: unexpected message (tag %d) from rank %d\n",
                    mpi_command(), ms.MPI_TAG, src);
            MPI_Abort(MPI_COMM_WORLD, CLI_RUNTIME);
        }
        if (src > 0 && stopped[src] && outstanding[src] == 0) {
            stopped[src] = 2; /* counted once */
            active--;
        }
    }
    free(outstanding);
    free(stopped);
    if (have_thread)
        pthread_join(thread, NULL);
    describe_balance(s.per_rank, size);
    free(s.per_rank);
    if (tty)
        fprintf(stderr, "\r%*s\r", 60, "");
    pthread_mutex_destroy(&s.lock);
    free(msg);
    free(s.rank_group);
    free(s.group_next);
    if (s.status != PACT_OK) {
        if (size > 1)
            cli_fail(err, s.status, "rank %d: %.480s", s.fail_rank, s.message);
        else
            cli_fail(err, s.status, "%s", s.message);
    }
    return s.status;
}

/* ---- ranks 1..K-1: ask ahead, compute, answer ---- */

static long long ask(void)
{
    char dummy = 0;
    long long item;
    MPI_Send(&dummy, 1, MPI_CHAR, 0, TAG_REQUEST, MPI_COMM_WORLD);
    MPI_Recv(&item, 1, MPI_LONG_LONG, 0, TAG_ITEM, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return item;
}

static pact_status run_worker(const mpi_items *job, pact_error *err)
{
    (void)err;
    size_t msg_len = 2 + job->row_size;
    double *msg = must_alloc(msg_len * sizeof *msg);
    char text[PACT_ERROR_MESSAGE_MAX] = "";
    int failed = 0;
    long long cur = ask();
    while (cur >= 0) {
        /* the next item's answer travels while this one computes; after a
         * failure the scheduler answers "stop" (the items in between are
         * given back uncomputed) */
        long long next = -1;
        MPI_Request rq;
        char dummy = 0;
        MPI_Send(&dummy, 1, MPI_CHAR, 0, TAG_REQUEST, MPI_COMM_WORLD);
        MPI_Irecv(&next, 1, MPI_LONG_LONG, 0, TAG_ITEM, MPI_COMM_WORLD, &rq);
        msg[0] = (double)cur;
        msg[1] = STATUS_SKIPPED;
        if (!failed) {
            pact_error e;
            e.message[0] = '\0';
            pact_status st = compute_item(job, (size_t)cur, msg + 2, &e);
            msg[1] = (double)st;
            if (st != PACT_OK) {
                failed = 1;
                snprintf(text, sizeof text, "%s", e.message);
            }
        }
        MPI_Send(msg, (int)msg_len, MPI_DOUBLE, 0, TAG_RESULT, MPI_COMM_WORLD);
        if (msg[1] != 0.0 && msg[1] != STATUS_SKIPPED)
            MPI_Send(text, (int)sizeof text, MPI_CHAR, 0, TAG_ERRTEXT, MPI_COMM_WORLD);
        MPI_Wait(&rq, MPI_STATUS_IGNORE);
        cur = next;
    }
    free(msg);
    return PACT_OK; /* the job's status comes from rank 0 */
}

pact_status mpi_run_items(const mpi_items *job, double *table, double *seconds, pact_error *err)
{
    double t0 = now_seconds();
    pact_status st = mpi_rank() == 0 ? run_root(job, table, err) : run_worker(job, err);
    /* one status for the job, rank 0's (it knows every rank's) */
    struct {
        int status;
        char message[PACT_ERROR_MESSAGE_MAX];
    } m = {(int)st, ""};
    if (mpi_rank() == 0 && st != PACT_OK && err)
        snprintf(m.message, sizeof m.message, "%s", err->message);
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (m.status != PACT_OK && mpi_rank() != 0)
        cli_fail(err, (pact_status)m.status, "%.500s", m.message);
    double dt = now_seconds() - t0;
    if (seconds)
        *seconds = dt;
    if (mpi_rank() == 0 && m.status == PACT_OK && progress_wanted())
        fprintf(stderr, "polyact %s: %s: %zu items on %d ranks in %.3f s%s\n", mpi_command(),
                job->phase, job->n_items, mpi_size(), dt, mpi_size() > 1 ? g_balance : "");
    return (pact_status)m.status;
}
