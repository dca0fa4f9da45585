/* ckpt_move: move a running process into a fresh process on this machine,
 * the local proof of the migration engine. Test helper, not a product tool.
 *
 *   ckpt_move [--keep] [--wire] [-v] PID
 *
 * Seizes PID, dumps it, restores the image into a fresh process that shares
 * PID's stdin/stdout/stderr, kills PID (or with --keep leaves it stopped under
 * ptrace until the copy ends), lets the copy run, prints its pid on stdout and
 * waits for it. With --wire the image goes through the wire encoder and the
 * incremental decoder before the restore. Exit: the copy's exit status (128+N if killed by signal N);
 * 2 usage; 3 PID cannot move (the cantmove words go to stderr); 4 failure.
 */
#include "ckpt/image.h"
#include "ckpt/imgwire.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *fp)
{
	fprintf(fp, "usage: ckpt_move [--keep] [--wire] [-v] PID\n"
		    "  Move PID into a fresh process on this machine and wait for the copy.\n"
		    "  --keep    leave PID stopped instead of killing it\n"
		    "  --wire    pass the image through the wire encoder and decoder\n"
		    "  -v        print timings and debug lines on stderr\n"
		    "exit: the copy's status; 2 usage, 3 cannot move, 4 failure\n");
}

/* encoder output straight into a decoder */
static int feed(void *ctx, const void *buf, size_t len)
{
	size_t used;
	int err = ckpt_image_decode_feed(ctx, buf, len, &used);

	return err == -EAGAIN || (err == 0 && used == len) ? 0 : (err ? err : -EBADMSG);
}

/* the image as a remote node would get it; replaces *img */
static int through_wire(struct ckpt_image **img)
{
	struct ckpt_decoder *d = ckpt_image_decode_new(NULL);
	struct ckpt_image *back;
	int err;

	if (!d)
		return -ENOMEM;
	err = ckpt_image_encode(*img, feed, d);
	back = ckpt_image_decode_take(d);
	ckpt_image_decode_free(d);
	if (err || !back) {
		fprintf(stderr, "ckpt_move: image did not survive the wire: %s\n",
			strerror(err ? -err : EBADMSG));
		ckpt_image_free(back);
		return err ? err : -EBADMSG;
	}
	ckpt_image_free(*img);
	*img = back;
	return 0;
}

/* the victim's fd n, the same open file (pidfd_getfd) */
static int steal_fd(int pidfd, int n)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "keep", no_argument, NULL, 'k' },
		{ "wire", no_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ckpt_restore_opts ro;
	struct ckpt_image *img = NULL;
	struct ckpt_why why;
	bool keep = false, verbose = false, wire = false;
	long lpid;
	pid_t pid, copy;
	uint64_t t0, t1, t2, t3;
	int c, err, pidfd, st;

	while ((c = getopt_long(argc, argv, "kwvh", lopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			wire = true;
			break;
		case 'k':
			keep = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || parse_long(argv[optind], 2, 1 << 30, &lpid)) {
		usage(stderr);
		return 2;
	}
	log_init("ckpt_move", verbose ? LOG_DEBUG : LOG_WARN);
	pid = (pid_t)lpid;

	/* the stub first, while we hold no big buffers */
	ckpt_restore_opts_init(&ro);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "ckpt_move: pidfd_open %d: %s\n", pid, strerror(errno));
		return 4;
	}
	for (int i = 0; i < 3; i++)
		ro.stdio[i] = steal_fd(pidfd, i);
	err = ckpt_stub_fork(&ro, &ro.stub);
	for (int i = 0; i < 3; i++)
		if (ro.stdio[i] >= 0)
			close(ro.stdio[i]);
	if (err)
		return 4;

	t0 = now_us();
	if (ptr_seize(pid, !keep)) {
		/* traced by someone else? say so as a refusal */
		if (ckpt_check(pid, &why) == -EBUSY) {
			fprintf(stderr, "ckpt_move: %d cannot move: %s (%s)\n", pid, why.words,
				why.detail);
			err = -EBUSY;
		}
		goto out_stub;
	}
	t1 = now_us();
	err = ckpt_dump(pid, &img, &why);
	if (err) {
		if (err == -EBUSY)
			fprintf(stderr, "ckpt_move: %d cannot move: %s (%s)\n", pid, why.words,
				why.detail);
		if (ptr_detach(pid))
			fprintf(stderr, "ckpt_move: %d left stopped\n", pid);
		kill(ro.stub, SIGKILL);
		waitpid(ro.stub, NULL, __WALL);
		return err == -EBUSY ? 3 : 4;
	}
	if (wire && (err = through_wire(&img))) {
		kill(ro.stub, SIGKILL);
		waitpid(ro.stub, NULL, __WALL);
	}
	t2 = now_us();
	if (!err)
		err = ckpt_restore(img, &ro, &copy);
	t3 = now_us();
	if (verbose)
		fprintf(stderr, "ckpt_move: %u regions, %llu KiB; freeze %.3f ms, dump %.3f ms, "
			"restore %.3f ms, total %.3f ms\n", img->nr_regions,
			(unsigned long long)ckpt_image_data_bytes(img) >> 10, (t1 - t0) / 1e3,
			(t2 - t1) / 1e3, (t3 - t2) / 1e3, (t3 - t0) / 1e3);
	ckpt_image_free(img);
	if (err) {
		/* the stub is gone (ckpt_restore killed it); the original goes on */
		if (ptr_detach(pid))
			fprintf(stderr, "ckpt_move: %d left stopped\n", pid);
		fprintf(stderr, "ckpt_move: move failed: %s\n", strerror(-err));
		return 4;
	}
	if (!keep) {
		/* reap it as its tracer so that its parent hears of it now */
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, __WALL) == pid && !WIFEXITED(st) && !WIFSIGNALED(st))
			;
	}
	if (ckpt_resume(copy)) {
		kill(copy, SIGKILL);
		waitpid(copy, NULL, 0);
		return 4;
	}
	printf("%d\n", copy);
	fflush(stdout);
	while (waitpid(copy, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "ckpt_move: waitpid %d: %s\n", copy, strerror(errno));
			return 4;
		}
	}
	if (keep)
		kill(pid, SIGKILL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

out_stub:
	kill(ro.stub, SIGKILL);
	waitpid(ro.stub, NULL, __WALL);
	return err == -EBUSY ? 3 : 4;
}
