/* migp: the migration frames on an authenticated node-to-node stream
 * (proto/stream.h, frame types in proto/link.h). Pure encode/decode,
 * big-endian, fixed layouts; decoders want the exact size.
 *
 *   home (deputy)                         target (remote)
 *   MIG_BEGIN {who, image size,  ------->  (sent before the freeze: size 0)
 *     stop signal}                         (a stopped job's copy starts held)
 *                                <-------  MIG_ACK {0} ready (a stub is forked) or {-errno, why}
 *   MIG_IMAGE chunks             ------->  (mig/xfer.h: layout, then contents)
 *                                <-------  MIG_ACK {0, remote pid} (commit) or {-errno, why}
 *                                <-------  SYSCALL (rsys request)
 *   SYSRET (rsys reply)          ------->
 *   SIGNAL {sig}                 ------->  (a signal sent to the home pid)
 *                                <-------  EXIT {exited|killed, code, CPU time}
 *   KILL                         ------->  (the home process is gone)
 *   GO_HOME                      ------->  (bring it back)
 *                                <-------  MIG_BEGIN {.., CPU time}, MIG_IMAGE chunks (its image now)
 *   MIG_ACK {0 or -errno}        ------->  (restored at home: the copy goes)
 */
#ifndef OM_PROTO_MIGP_H
#define OM_PROTO_MIGP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define MIGP_COMM_LEN 16
#define MIGP_WHY_LEN 128

struct migp_begin {
	uint16_t home_id;
	uint32_t pid;  /* the home pid: what getpid() answers */
	uint32_t uid, gid;
	uint64_t image_len; /* 0: not known yet (the image's own header says) */
	char comm[MIGP_COMM_LEN]; /* NUL-terminated */
	uint8_t stop_sig;   /* home -> target: the process is in a job-control
			     * stop at home (SIGSTOP, SIGTSTP...): its copy
			     * starts held in it, until SIGCONT; 0: it runs */
	uint64_t cpu_us;    /* target -> home: CPU time (user + system) the
			     * copy used at the target, in microseconds */
};
#define MIGP_BEGIN_SIZE (2 + 4 + 4 + 4 + 8 + MIGP_COMM_LEN + 1 + 8)

struct migp_ack {
	int32_t err;      /* 0 = committed, else -errno */
	uint32_t rpid;    /* the process on the target */
	char why[MIGP_WHY_LEN]; /* NUL-terminated reason when err != 0 */
};
#define MIGP_ACK_SIZE (4 + 4 + MIGP_WHY_LEN)

enum migp_exit_kind { MIGP_EXITED = 0, MIGP_KILLED = 1 };
struct migp_exit {
	uint8_t kind;  /* enum migp_exit_kind */
	uint8_t core;  /* killed with a core dump */
	int32_t code;  /* exit code, or the killing signal */
	uint64_t cpu_us; /* CPU time (user + system) the copy used at the target, µs */
};
#define MIGP_EXIT_SIZE 14

/* SIGNAL: the signal number and the raw siginfo_t (128 bytes) the home
 * process received, so the copy sees the very same sender and code */
#define MIGP_SIGINFO_LEN 128
#define MIGP_SIGNAL_SIZE (4 + MIGP_SIGINFO_LEN)

int migp_begin_encode(uint8_t *buf, size_t cap, const struct migp_begin *b) __must_check;
int migp_begin_decode(const uint8_t *buf, size_t len, struct migp_begin *b) __must_check;
int migp_ack_encode(uint8_t *buf, size_t cap, const struct migp_ack *a) __must_check;
int migp_ack_decode(const uint8_t *buf, size_t len, struct migp_ack *a) __must_check;
int migp_exit_encode(uint8_t *buf, size_t cap, const struct migp_exit *e) __must_check;
int migp_exit_decode(const uint8_t *buf, size_t len, struct migp_exit *e) __must_check;
/* info: MIGP_SIGINFO_LEN bytes, carried as they are (host layout: both
 * ends are x86_64 Linux) */
int migp_signal_encode(uint8_t *buf, size_t cap, uint32_t sig, const void *info) __must_check;
int migp_signal_decode(const uint8_t *buf, size_t len, uint32_t *sig, void *info) __must_check;

#endif
