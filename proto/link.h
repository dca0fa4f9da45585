/* link: the frames exchanged on an authenticated node-to-node stream
 * (proto/stream.h) on the migration port. Only the liveness ping exists so
 * far; process migration adds its frames here. */
#ifndef OM_PROTO_LINK_H
#define OM_PROTO_LINK_H

#include <stdint.h>

enum link_frame_type {
	LINK_PING = 1, /* body: u64 cookie */
	LINK_PONG = 2, /* body: u64 cookie (echoed), u16 node id */
	/* process migration (proto/migp.h) */
	LINK_MIG_BEGIN = 10, /* home -> target: who moves, image size */
	LINK_MIG_IMAGE = 11, /* home -> target: a chunk of the image (ckpt/imgwire.h) */
	LINK_MIG_ACK = 12,   /* target -> home: committed (remote pid) or refused (why) */
	LINK_SYSCALL = 20,   /* remote -> home: a forwarded system call (rsys/) */
	LINK_SYSRET = 21,    /* home -> remote: its result */
	LINK_SIGNAL = 22,    /* home -> remote: a signal sent to the home pid */
	LINK_EXIT = 23,      /* remote -> home: the process exited or was killed */
	LINK_KILL = 24,      /* home -> remote: the home process is gone: kill it */
	LINK_GO_HOME = 25,   /* home -> remote: send the process back (MIG_BEGIN +
			      * MIG_IMAGE from remote to home, MIG_ACK back) */
	LINK_WANT_HOME = 26, /* remote -> home: this node expels it: take it back
			      * (home answers with GO_HOME) */
	/* fork after a move (mig/fork.c) */
	LINK_FORK = 27,      /* remote -> home: the copy forked: {child here, exit signal} */
	LINK_FORKED = 28,    /* home -> remote: {the home child's pid or -errno} */
	LINK_FORK_BEGIN = 29, /* home -> target, a new connection: a migp_begin whose
			       * pid is the home child and image_len the child's pid at
			       * the target; answered with MIG_ACK */
	LINK_STOPPED = 30,   /* remote -> home: {u32 signal}: a job-control stop the copy
			      * takes by default: the home process stops with it, for
			      * its parent and shell to see; SIGCONT from home resumes
			      * both (mig/fork.c) */
};

#define LINK_PING_SIZE 8
#define LINK_PONG_SIZE 10

#endif
