/* Network layouts for the cost model: an ordered list of ops (linear,
 * activation slot, fork, shortcut linear, add) and the CIFAR ResNet builder. */
#include "cost_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAYOUT_MAX_OPS 1000000
#define OP_NAME_MAX 128

struct pact_cost_layout {
    char profile[PACT_COST_NAME_MAX]; /* "" unless built from a profile */
    int n_ops, cap;
    pact_cost_op *ops;                /* names point to owned copies */
    int *slot_op;                     /* op index of each activation slot */
    int n_slots;
    int pending;                      /* a shortcut is pending after the last op */
};

pact_status pact_cost_layout_create(pact_cost_layout **layout, pact_error *err)
{
    if (!layout)
        return pact_fail(err, PACT_EINVAL, "cost layout: NULL output");
    *layout = calloc(1, sizeof **layout);
    if (!*layout)
        return pact_fail(err, PACT_ENOMEM, "cost layout: out of memory");
    return PACT_OK;
}

void pact_cost_layout_free(pact_cost_layout *layout)
{
    if (!layout)
        return;
    for (int i = 0; i < layout->n_ops; i++)
        free((char *)layout->ops[i].name);
    free(layout->ops);
    free(layout->slot_op);
    free(layout);
}

static const char *kind_name(pact_cost_op_kind k)
{
    switch (k) {
    case PACT_COST_LINEAR: return "LINEAR";
    case PACT_COST_ACT: return "ACT";
    case PACT_COST_FORK: return "FORK";
    case PACT_COST_SHORTCUT: return "SHORTCUT";
    case PACT_COST_ADD: return "ADD";
    }
    return "?";
}

static pact_status check_op(const pact_cost_layout *l, const pact_cost_op *op, const char *name,
                            pact_error *err)
{
    int k = (int)op->kind;
    if (k < PACT_COST_LINEAR || k > PACT_COST_ADD)
        return pact_fail(err, PACT_EINVAL, "cost layout: op %d '%s': kind %d unknown", l->n_ops,
                         name, k);
    const char *kn = kind_name(op->kind);
    int has_levels = op->kind == PACT_COST_LINEAR || op->kind == PACT_COST_SHORTCUT;
    int has_ms = has_levels || op->kind == PACT_COST_ADD;
    if (op->levels < 0 || op->levels > PACT_COST_MAX_LEVEL || (!has_levels && op->levels))
        return pact_fail(err, PACT_EINVAL, "cost layout: op %d '%s' (%s): levels %d invalid",
                         l->n_ops, name, kn, op->levels);
    if (!isfinite(op->ms) || op->ms < 0.0 || op->ms > 1e12 || (!has_ms && op->ms != 0.0))
        return pact_fail(err, PACT_EINVAL, "cost layout: op %d '%s' (%s): ms %g invalid",
                         l->n_ops, name, kn, op->ms);
    if (op->stage < 1 || op->stage > PACT_COST_MAX_STAGES)
        return pact_fail(err, PACT_EINVAL, "cost layout: op %d '%s' (%s): stage %d outside 1..%d",
                         l->n_ops, name, kn, op->stage, PACT_COST_MAX_STAGES);
    if (op->bootstrap_before != 0 &&
        (op->bootstrap_before != 1 || op->kind != PACT_COST_LINEAR))
        return pact_fail(err, PACT_EINVAL,
                         "cost layout: op %d '%s' (%s): bootstrap_before %d (only 0, or 1 on "
                         "LINEAR ops)",
                         l->n_ops, name, kn, op->bootstrap_before);
    if (op->kind == PACT_COST_FORK && l->pending)
        return pact_fail(err, PACT_EINVAL,
                         "cost layout: op %d '%s': FORK while a shortcut is pending "
                         "(nested residual blocks are not modelled)",
                         l->n_ops, name);
    if ((op->kind == PACT_COST_SHORTCUT || op->kind == PACT_COST_ADD) && !l->pending)
        return pact_fail(err, PACT_EINVAL, "cost layout: op %d '%s': %s without a FORK before it",
                         l->n_ops, name, kn);
    if (l->n_ops >= LAYOUT_MAX_OPS)
        return pact_fail(err, PACT_EINVAL, "cost layout: more than %d ops", LAYOUT_MAX_OPS);
    return PACT_OK;
}

pact_status pact_cost_layout_add(pact_cost_layout *layout, const pact_cost_op *op,
                                 pact_error *err)
{
    if (!layout || !op)
        return pact_fail(err, PACT_EINVAL, "cost layout: NULL argument");
    char generated[32];
    const char *name = op->name;
    if (!name) {
        snprintf(generated, sizeof generated, "op%d", layout->n_ops);
        name = generated;
    }
    size_t len = strlen(name);
    if (len >= OP_NAME_MAX)
        return pact_fail(err, PACT_EINVAL, "cost layout: op %d: name longer than %d bytes",
                         layout->n_ops, OP_NAME_MAX - 1);
    pact_status st = check_op(layout, op, name, err);
    if (st != PACT_OK)
        return st;
    if (layout->n_ops == layout->cap) {
        int cap = layout->cap ? 2 * layout->cap : 64;
        pact_cost_op *ops = realloc(layout->ops, (size_t)cap * sizeof *ops);
        if (!ops)
            return pact_fail(err, PACT_ENOMEM, "cost layout: out of memory");
        layout->ops = ops;
        int *slots = realloc(layout->slot_op, (size_t)cap * sizeof *slots);
        if (!slots)
            return pact_fail(err, PACT_ENOMEM, "cost layout: out of memory");
        layout->slot_op = slots;
        layout->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return pact_fail(err, PACT_ENOMEM, "cost layout: out of memory");
    memcpy(copy, name, len + 1);
    pact_cost_op *dst = &layout->ops[layout->n_ops];
    *dst = *op;
    dst->name = copy;
    if (op->kind == PACT_COST_ACT)
        layout->slot_op[layout->n_slots++] = layout->n_ops;
    if (op->kind == PACT_COST_FORK)
        layout->pending = 1;
    if (op->kind == PACT_COST_ADD)
        layout->pending = 0;
    layout->n_ops++;
    return PACT_OK;
}

int pact_cost_layout_n_ops(const pact_cost_layout *layout)
{
    return layout ? layout->n_ops : 0;
}

const pact_cost_op *pact_cost_layout_op(const pact_cost_layout *layout, int i)
{
    return layout && i >= 0 && i < layout->n_ops ? &layout->ops[i] : NULL;
}

int pact_cost_layout_n_slots(const pact_cost_layout *layout)
{
    return layout ? layout->n_slots : 0;
}

const char *pact_cost_layout_slot_name(const pact_cost_layout *layout, int slot)
{
    if (!layout || slot < 0 || slot >= layout->n_slots)
        return NULL;
    return layout->ops[layout->slot_op[slot]].name;
}

int pact_cost_layout_slot_op(const pact_cost_layout *layout, int slot)
{
    if (!layout || slot < 0 || slot >= layout->n_slots)
        return -1;
    return layout->slot_op[slot];
}

const char *pact_cost_layout_profile_name(const pact_cost_layout *layout)
{
    return layout->profile;
}

void pact_cost_layout_set_profile(pact_cost_layout *layout, const char *profile_name)
{
    snprintf(layout->profile, sizeof layout->profile, "%s", profile_name);
}

int pact_cost_layout_is_open(const pact_cost_layout *layout)
{
    return layout->pending;
}

/* --- the CIFAR ResNet family ---------------------------------------------- */

static pact_status add(pact_cost_layout *l, pact_cost_op_kind kind, const char *name,
                       const pact_cost_linear *lin, int stage, int bootstrap_before,
                       pact_error *err)
{
    pact_cost_op op = {kind, name, lin ? lin->levels : 0, lin ? lin->ms : 0.0, stage,
                       bootstrap_before};
    return pact_cost_layout_add(l, &op, err);
}

static pact_status build_resnet(const pact_cost_profile *p, int blocks, pact_cost_layout *l,
                                pact_error *err)
{
    char name[OP_NAME_MAX];
    pact_status st = add(l, PACT_COST_LINEAR, "conv1", &p->stem_conv, 1, 0, err);
    if (st == PACT_OK)
        st = add(l, PACT_COST_LINEAR, "bn1", &p->stem_bn, 1, 0, err);
    if (st == PACT_OK)
        st = add(l, PACT_COST_ACT, "relu", NULL, 1, 0, err);
    for (int s = 1; s <= 3 && st == PACT_OK; s++) {
        const pact_cost_resnet_stage *rs = &p->stages[s - 1];
        for (int i = 0; i < blocks && st == PACT_OK; i++) {
            int down = s > 1 && i == 0;
#define OP(kind, suffix, lin, boot)                                                     \
    if (st == PACT_OK) {                                                                \
        snprintf(name, sizeof name, "layer%d.%d." suffix, s, i);                        \
        st = add(l, kind, name, lin, s, boot, err);                                     \
    }
            OP(PACT_COST_FORK, "fork", NULL, 0)
            OP(PACT_COST_LINEAR, "conv1", down ? &rs->conv_downsample : &rs->conv, 0)
            OP(PACT_COST_LINEAR, "bn1", &rs->bn, 0)
            OP(PACT_COST_ACT, "relu1", NULL, 0)
            OP(PACT_COST_LINEAR, "conv2", &rs->conv, 0)
            OP(PACT_COST_LINEAR, "bn2", &rs->bn, 0)
            if (down) {
                OP(PACT_COST_SHORTCUT, "shortcut", &rs->shortcut_downsample, 0)
            }
            OP(PACT_COST_ADD, "add", NULL, 0)
            OP(PACT_COST_ACT, "relu2", NULL, 0)
#undef OP
        }
    }
    if (st == PACT_OK)
        st = add(l, PACT_COST_LINEAR, "avgpool", &p->pool, 3, 1, err);
    if (st == PACT_OK)
        st = add(l, PACT_COST_LINEAR, "linear", &p->fc, 3, 1, err);
    return st;
}

pact_status pact_cost_layout_resnet(const pact_cost_profile *profile, int model_depth,
                                    pact_cost_layout **layout, pact_error *err)
{
    if (!profile || !layout)
        return pact_fail(err, PACT_EINVAL, "resnet layout: NULL argument");
    *layout = NULL;
    if (model_depth < 8 || (model_depth - 2) % 6 != 0 || (model_depth - 2) / 6 > 200)
        return pact_fail(err, PACT_EINVAL,
                         "resnet layout: depth %d is not 6n+2 with n in 1..200 (20, 32, 44, "
                         "56, 110)",
                         model_depth);
    if (!profile->has_resnet)
        return pact_fail(err, PACT_EFORMAT, "profile %s: no cifar_resnet section",
                         profile->name);
    if (profile->n_stages < 3)
        return pact_fail(err, PACT_EFORMAT,
                         "profile %s: bootstrap.ms_by_stage has %d stages, a CIFAR ResNet "
                         "needs 3",
                         profile->name, profile->n_stages);
    pact_cost_layout *l;
    pact_status st = pact_cost_layout_create(&l, err);
    if (st != PACT_OK)
        return st;
    st = build_resnet(profile, (model_depth - 2) / 6, l, err);
    if (st != PACT_OK) {
        pact_cost_layout_free(l);
        return st;
    }
    snprintf(l->profile, sizeof l->profile, "%s", profile->name);
    *layout = l;
    return PACT_OK;
}
