/* xfer: a process image over a mig_chan as a stream of MIG_IMAGE frames
 * (ckpt/imgwire.h), with no copy of the image held at either end.
 *
 * The sender reads the contents from the stopped process while it sends
 * them, straight into the frame being built (process_vm_readv); the
 * receiver builds the new address space as soon as the layout is in and
 * writes each piece of contents into it as it arrives
 * (process_vm_writev), so reading, sending, receiving and writing overlap
 * and nothing is touched twice by user code.
 */
#ifndef OM_MIG_XFER_H
#define OM_MIG_XFER_H

#include <stdint.h>
#include <sys/types.h>

struct mig_chan;
struct ckpt_image;
struct ckpt_restore_opts;

/* Send img. A lazy image (ckpt_dump_layout) has its contents read from pid,
 * which must stay stopped under us meanwhile; a full image sends its own.
 * 0 or -errno (the stream is then unusable). */
int mig_xfer_send(struct mig_chan *ch, pid_t pid, const struct ckpt_image *img)
	__attribute__((warn_unused_result));

/* Receive an image of at most max_len bytes (0: no bound but the
 * decoder's) into the stub of rs (ckpt_restore_prepare; taken over: it is
 * finished or aborted here), restored as ckpt_restore() would with opts:
 * *out_pid is the copy, stopped under us. On failure the stub is killed.
 * 0 or -errno. */
struct ckpt_restorer;
int mig_xfer_recv(struct mig_chan *ch, uint64_t max_len, struct ckpt_restorer *rs,
	const struct ckpt_restore_opts *opts, pid_t *out_pid) __attribute__((warn_unused_result));

#endif
