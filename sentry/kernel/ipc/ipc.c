/* The machinery the three kinds of System V objects share: the namespace,
 * id tables (an index plus a sequence number, so a stale id of a removed
 * object does not name its successor), key lookup for the get calls and
 * the permission rules of struct ipc_perm. */
#include <stdlib.h>
#include <time.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "sentry/kernel/ipc/ipc_internal.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/kernel.h"

/* The largest sequence number an id can carry (ids stay positive ints). */
#define IPC_SEQ_MAX (INT32_MAX / ABI_IPCMNI)

struct ipc_ns *ipc_ns_of(struct kernel *k)
{
    if (!k->ipc) {
        struct ipc_ns *ns = calloc(1, sizeof(*ns));
        if (!ns)
            return NULL;
        ns->k = k;
        k->ipc = ns;
    }
    return k->ipc;
}

int ipc_ids_add(struct ipc_ids *ids, struct ipc_obj *o, int max)
{
    if (ids->in_use >= max)
        return -ABI_ENOSPC;
    int idx = 0;
    while (idx < ids->cap && ids->slots[idx])
        idx++;
    if (idx >= max)
        return -ABI_ENOSPC;
    if (idx == ids->cap) {
        int cap = ids->cap ? ids->cap * 2 : 16;
        if (cap > max)
            cap = max;
        struct ipc_obj **s = realloc(ids->slots, (size_t)cap * sizeof(*s));
        if (!s)
            return -ABI_ENOMEM;
        for (int i = ids->cap; i < cap; i++)
            s[i] = NULL;
        ids->slots = s;
        ids->cap = cap;
    }
    o->seq = ids->next_seq;
    ids->next_seq = ids->next_seq >= IPC_SEQ_MAX ? 0 : ids->next_seq + 1;
    o->id = o->seq * ABI_IPCMNI + idx;
    ids->slots[idx] = o;
    ids->in_use++;
    return 0;
}

void ipc_ids_remove(struct ipc_ids *ids, struct ipc_obj *o)
{
    int idx = o->id % ABI_IPCMNI;
    if (idx < ids->cap && ids->slots[idx] == o) {
        ids->slots[idx] = NULL;
        ids->in_use--;
    }
}

struct ipc_obj *ipc_ids_find(struct ipc_ids *ids, int id)
{
    if (id < 0)
        return NULL;
    struct ipc_obj *o = ipc_ids_at(ids, id % ABI_IPCMNI);
    return o && o->id == id ? o : NULL;
}

struct ipc_obj *ipc_ids_find_key(struct ipc_ids *ids, int32_t key)
{
    for (int i = 0; i < ids->cap; i++) {
        if (ids->slots[i] && ids->slots[i]->key == key)
            return ids->slots[i];
    }
    return NULL;
}

struct ipc_obj *ipc_ids_at(struct ipc_ids *ids, int idx)
{
    return idx >= 0 && idx < ids->cap ? ids->slots[idx] : NULL;
}

int ipc_ids_max_index(const struct ipc_ids *ids)
{
    for (int i = ids->cap - 1; i >= 0; i--) {
        if (ids->slots[i])
            return i;
    }
    return 0;
}

int64_t ipc_get(struct task *t, struct ipc_ids *ids, int32_t key, int flg,
                int64_t (*create)(struct task *t, void *arg),
                int (*check)(struct ipc_obj *o, void *arg), void *arg)
{
    if (key == ABI_IPC_PRIVATE)
        return create(t, arg);
    struct ipc_obj *o = ipc_ids_find_key(ids, key);
    if (!o)
        return (flg & ABI_IPC_CREAT) ? create(t, arg) : -ABI_ENOENT;
    if ((flg & ABI_IPC_CREAT) && (flg & ABI_IPC_EXCL))
        return -ABI_EEXIST;
    int err = ipc_perm_check(t, o, flg & 0777);
    if (!err && check)
        err = check(o, arg);
    return err ? err : o->id;
}

void ipc_obj_init(struct ipc_obj *o, struct task *t, int32_t key, int flg)
{
    o->key = key;
    o->uid = o->cuid = t->creds.euid;
    o->gid = o->cgid = t->creds.egid;
    o->mode = (uint32_t)flg & 0777;
}

bool ipc_capable(struct task *t, int cap)
{
    return cred_capable(&t->creds, cap);
}

static bool in_group(const struct task_creds *c, uint32_t gid)
{
    if (gid == c->fsgid)
        return true;
    for (uint32_t i = 0; i < c->ngroups; i++) {
        if (c->groups[i] == gid)
            return true;
    }
    return false;
}

int ipc_perm_check(struct task *t, const struct ipc_obj *o, int requested)
{
    uint32_t granted = o->mode;
    const struct task_creds *c = &t->creds;
    /* Any triple of the request asks for its rwx bits (a get's 0600 asks
     * for rw), checked against the caller's triple: the owner's, else the
     * group's, else the others'. */
    requested = (requested >> 6) | (requested >> 3) | requested;
    if (c->euid == o->cuid || c->euid == o->uid)
        granted >>= 6;
    else if (in_group(c, o->cgid) || in_group(c, o->gid))
        granted >>= 3;
    if ((requested & ~(int)granted & 07) && !ipc_capable(t, ABI_CAP_IPC_OWNER))
        return -ABI_EACCES;
    return 0;
}

int ipc_owner_check(struct task *t, const struct ipc_obj *o)
{
    uint32_t euid = t->creds.euid;
    if (euid == o->cuid || euid == o->uid || ipc_capable(t, ABI_CAP_SYS_ADMIN))
        return 0;
    return -ABI_EPERM;
}

void ipc_perm_fill(const struct ipc_obj *o, struct abi_ipc64_perm *p)
{
    *p = (struct abi_ipc64_perm){
        .key = o->key,
        .uid = o->uid,
        .gid = o->gid,
        .cuid = o->cuid,
        .cgid = o->cgid,
        .mode = o->mode,
        .seq = o->seq,
    };
}

void ipc_perm_set(struct ipc_obj *o, const struct abi_ipc64_perm *p)
{
    o->uid = p->uid;
    o->gid = p->gid;
    o->mode = (o->mode & ~0777u) | (p->mode & 0777u);
}

int64_t ipc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

int ipc_pid(const struct task *t)
{
    return t ? t->pid : 0;
}
