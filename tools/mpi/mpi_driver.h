/* The MPI driver's internals (tools/mpi): the job's ranks, agreement on a
 * status, broadcasts, and the dynamic item scheduler. Only tools/mpi/
 * includes mpi.h; the library never does. */
#ifndef PACT_MPI_DRIVER_H
#define PACT_MPI_DRIVER_H

#include "polyact.h"

#include <stddef.h>

/* This process's rank and the job's size (valid after cli_backend_init). */
int mpi_rank(void);
int mpi_size(void);

/* The subcommand's name, for messages ("calibrate"). */
const char *mpi_command(void);

/* Collective: every rank passes its own status. Returns, on every rank, the
 * status of the lowest-ranked failure (PACT_OK if none) with that rank's
 * message in *err, prefixed "rank R: " when R is not 0. */
pact_status mpi_agree(pact_status st, pact_error *err);

/* Collective: rank 0's `size` bytes at *data (malloc'ed there; the other
 * ranks' *data is allocated here with a NUL after the bytes) reach every rank. `st` is
 * rank 0's status of producing them: on failure every rank returns it with
 * rank 0's message and *data NULL. */
pact_status mpi_share_bytes(pact_status st, char **data, size_t *size, pact_error *err);

/* Collective: n doubles / ints from rank 0 to every rank. */
void mpi_bcast_doubles(double *v, size_t n);
void mpi_bcast_ints(int *v, size_t n);

/* Collective: counts summed over all ranks, in place on every rank (exact:
 * integers). */
void mpi_allreduce_counts(uint64_t *counts, size_t n);

/* One item of a job: computes `item` into row[row_size] on this rank.
 * Called by one thread at a time per rank (on rank 0 by its worker thread). */
typedef pact_status (*mpi_item_fn)(void *ctx, size_t item, double *row, pact_error *err);

typedef struct {
    const char *phase;   /* name in progress lines ("impacts") */
    size_t n_items;
    size_t row_size;     /* doubles each item sends to rank 0 (0: none) */
    size_t group;        /* 0: hand items out in order; g > 0: items i / g form
                            groups (e.g. a layer's candidates) and a rank keeps
                            taking items of its group while any are left, then
                            joins the group with the most items left */
    mpi_item_fn compute;
    void *ctx;           /* this rank's context */
} mpi_items;

/* Collective: every item computed exactly once on some rank, handed out on
 * request (rank 0 runs the scheduler in its main thread and computes in a
 * second thread, so K processes give K workers). On rank 0, table
 * (n_items x row_size doubles) receives every item's row, in item order. On
 * failure every rank returns the same status; the message names the rank
 * and the cause, and rank 0 stops handing out items. *seconds (optional,
 * rank 0): wall time of the phase. */
pact_status mpi_run_items(const mpi_items *job, double *table, double *seconds, pact_error *err);

#endif
