#include "proto/auth.h"

#include "lib/log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(AUTH_MAC_SIZE >= crypto_generichash_BYTES_MIN, "MAC too short for BLAKE2b");
static_assert(AUTH_KEY_SIZE >= crypto_generichash_KEYBYTES_MIN &&
		      AUTH_KEY_SIZE <= crypto_generichash_KEYBYTES_MAX,
	"key size out of BLAKE2b range");

int auth_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int auth_key_parse(const char *text, size_t len, uint8_t key[AUTH_KEY_SIZE])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len == AUTH_KEY_HEX_SIZE + 1 && text[AUTH_KEY_HEX_SIZE] == '\n')
		len--;
	if (len != AUTH_KEY_HEX_SIZE)
		return -EINVAL;
	/* no ignore set: any non-hex character stops the parse early */
	if (sodium_hex2bin(key, AUTH_KEY_SIZE, text, len, NULL, &bin_len, &end) != 0 ||
		bin_len != AUTH_KEY_SIZE || end != text + len) {
		sodium_memzero(key, AUTH_KEY_SIZE);
		return -EINVAL;
	}
	return 0;
}

/* 0 if the open key file is fit to hold a secret; logs why not. */
static int key_file_check(const char *path, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int err = -errno;

		pr_err("%s: cannot stat cluster key: %s", path, strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s: cluster key is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		pr_err("%s: cluster key is open to group or others (mode %04o); chmod 600 it", path,
			(unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		pr_err("%s: cluster key is owned by uid %u, not by us (uid %u) or root", path,
			(unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

static int key_load(const char *path, uint8_t key[AUTH_KEY_SIZE])
{
	char text[AUTH_KEY_HEX_SIZE + 2]; /* one more than a valid file holds */
	size_t len = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT) /* absent: the caller creates it */
			pr_err("%s: cannot open cluster key: %s", path, strerror(-err));
		return err;
	}
	err = key_file_check(path, fd);
	if (err)
		goto out_close;
	while (len < sizeof(text)) {
		ssize_t n = read(fd, text + len, sizeof(text) - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_err("%s: cannot read cluster key: %s", path, strerror(errno));
			goto out_wipe;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	err = auth_key_parse(text, len, key);
	if (err)
		pr_err("%s: cluster key must be %d hex digits and an optional newline", path,
			AUTH_KEY_HEX_SIZE);
out_wipe:
	sodium_memzero(text, sizeof(text));
out_close:
	close(fd);
	return err;
}

/* Write a fresh key to a temporary file next to `path`, then link() it into
 * place: link fails with EEXIST rather than replace a key that another
 * process created meanwhile, and readers never see a partial file. */
static int key_create(const char *path, uint8_t key[AUTH_KEY_SIZE])
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	char hex[AUTH_KEY_HEX_SIZE + 2];
	size_t off = 0;
	int fd, err;

	if (xsnprintf(dir, sizeof(dir), "%s", path) ||
		xsnprintf(tmp, sizeof(tmp), "%s.new.XXXXXX", path)) {
		pr_err("%s: path too long", path);
		return -ENAMETOOLONG;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = mkdir_p(dir, 0700);
		if (err) {
			pr_err("%s: cannot create directory: %s", dir, strerror(-err));
			return err;
		}
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: cannot create cluster key: %s", path, strerror(errno));
		return err;
	}
	randombytes_buf(key, AUTH_KEY_SIZE);
	sodium_bin2hex(hex, sizeof(hex), key, AUTH_KEY_SIZE);
	hex[AUTH_KEY_HEX_SIZE] = '\n';
	while (off < AUTH_KEY_HEX_SIZE + 1) {
		ssize_t n = write(fd, hex + off, AUTH_KEY_HEX_SIZE + 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out_errno;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, 0600) < 0 || fsync(fd) < 0)
		goto out_errno;
	if (link(tmp, path) < 0) {
		err = -errno;
		if (err != -EEXIST)
			pr_err("%s: cannot install cluster key: %s", path, strerror(errno));
		goto out_unlink;
	}
	err = 0;
	pr_info("%s: created a new cluster key; copy it to every node of the cluster", path);
	goto out_unlink;
out_errno:
	err = -errno;
	pr_err("%s: cannot write cluster key: %s", tmp, strerror(errno));
out_unlink:
	unlink(tmp);
	close(fd);
	sodium_memzero(hex, sizeof(hex));
	if (err)
		sodium_memzero(key, AUTH_KEY_SIZE);
	return err;
}

int auth_key_load_or_create(const char *path, uint8_t key[AUTH_KEY_SIZE])
{
	int err;

	err = auth_init();
	if (err) {
		pr_err("libsodium initialisation failed");
		return err;
	}
	err = key_load(path, key);
	if (err != -ENOENT)
		goto out;
	err = key_create(path, key);
	if (err == -EEXIST) /* lost a creation race: use the winner's key */
		err = key_load(path, key);
	if (err == -ENOENT)
		pr_err("%s: cluster key vanished while being created", path);
out:
	if (err)
		sodium_memzero(key, AUTH_KEY_SIZE);
	return err;
}

void auth_mac(
	const uint8_t key[AUTH_KEY_SIZE], const void *data, size_t len, uint8_t out[AUTH_MAC_SIZE])
{
	crypto_generichash(out, AUTH_MAC_SIZE, data, len, key, AUTH_KEY_SIZE);
}

bool auth_verify(const uint8_t key[AUTH_KEY_SIZE], const void *data, size_t len,
	const uint8_t mac[AUTH_MAC_SIZE])
{
	uint8_t want[AUTH_MAC_SIZE];
	bool ok;

	auth_mac(key, data, len, want);
	ok = crypto_verify_16(want, mac) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

int replay_check(const struct replay_window *w, uint64_t incarnation, uint64_t seq)
{
	uint64_t age;

	if (incarnation < w->incarnation)
		return -ESTALE;
	if (incarnation > w->incarnation || seq > w->top)
		return 0;
	age = w->top - seq;
	if (age >= REPLAY_WINDOW_SIZE || (w->bitmap >> age) & 1)
		return -EALREADY;
	return 0;
}

void replay_commit(struct replay_window *w, uint64_t incarnation, uint64_t seq)
{
	uint64_t shift;

	if (incarnation < w->incarnation)
		return;
	if (incarnation > w->incarnation) {
		w->incarnation = incarnation;
		w->top = seq;
		w->bitmap = 1;
		return;
	}
	if (seq > w->top) {
		shift = seq - w->top;
		w->bitmap = shift >= REPLAY_WINDOW_SIZE ? 0 : w->bitmap << shift;
		w->bitmap |= 1;
		w->top = seq;
		return;
	}
	shift = w->top - seq;
	if (shift < REPLAY_WINDOW_SIZE)
		w->bitmap |= (uint64_t)1 << shift;
}

int replay_accept(struct replay_window *w, uint64_t incarnation, uint64_t seq)
{
	int err = replay_check(w, incarnation, seq);

	if (!err)
		replay_commit(w, incarnation, seq);
	return err;
}
