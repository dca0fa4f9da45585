#include "mig/hagent.h"
#include "mig/mig.h"

#include <assert.h>
#include <string.h>
#include <sys/syscall.h>

/* offsets into the code below */
#define OFF_RD_END 18   /* after the read of a request */
#define OFF_CMP_JE 22   /* the je after comparing its length */
#define OFF_DEAD 29     /* pause for ever (the deputy is gone: EOF) */
#define OFF_BODY 38     /* the request is loaded into registers */
#define OFF_CALL 66     /* the forwarded call's syscall instruction */
#define OFF_AFTER 68    /* its result is stored and sent */
#define OFF_WR_END 90  /* after the answer */
#define OFF_END 92

static const uint8_t code[OFF_END] = {
	/* 0 loop: */
	0xb8, 0x00, 0x00, 0x00, 0x00,   /* mov eax, SYS_read */
	0x4c, 0x89, 0xe7,               /* mov rdi, r12 */
	0x4c, 0x89, 0xee,               /* mov rsi, r13 */
	0xba, 0x40, 0x00, 0x00, 0x00,   /* mov edx, 64 */
	0x0f, 0x05,                     /* syscall */
	/* 18 */
	0x48, 0x83, 0xf8, 0x38,         /* cmp rax, 56 */
	0x74, 0x0e,                     /* 22: je body */
	0x48, 0x85, 0xc0,               /* 24: test rax, rax */
	0x7f, 0xe3,                     /* 27: jg loop */
	/* 29 dead: */
	0xb8, 0x22, 0x00, 0x00, 0x00,   /* mov eax, SYS_pause */
	0x0f, 0x05,                     /* syscall */
	0xeb, 0xf7,                     /* jmp dead */
	/* 38 body: */
	0x49, 0x8b, 0x45, 0x00,         /* mov rax, [r13] */
	0x49, 0x8b, 0x7d, 0x08,         /* mov rdi, [r13 + 8] */
	0x49, 0x8b, 0x75, 0x10,         /* mov rsi, [r13 + 16] */
	0x49, 0x8b, 0x55, 0x18,         /* mov rdx, [r13 + 24] */
	0x4d, 0x8b, 0x55, 0x20,         /* mov r10, [r13 + 32] */
	0x4d, 0x8b, 0x45, 0x28,         /* mov r8, [r13 + 40] */
	0x4d, 0x8b, 0x4d, 0x30,         /* mov r9, [r13 + 48] */
	0x0f, 0x05,                     /* 66: syscall: the forwarded call */
	/* 68 after: */
	0x49, 0x89, 0x45, 0x00,         /* mov [r13], rax */
	0xb8, 0x01, 0x00, 0x00, 0x00,   /* mov eax, SYS_write */
	0x4c, 0x89, 0xe7,               /* mov rdi, r12 */
	0x4c, 0x89, 0xee,               /* mov rsi, r13 */
	0xba, 0x08, 0x00, 0x00, 0x00,   /* mov edx, 8 */
	0x0f, 0x05,                     /* syscall */
	0xeb, 0xa4,                     /* 90: jmp loop */
};

static_assert(SYS_read == 0 && SYS_write == 1 && SYS_pause == 34, "x86_64 numbers in the code");
static_assert(HAGENT_REQ_SIZE == 56 && HAGENT_REPLY_SIZE == 8, "sizes in the code");
static_assert(sizeof(code) <= HAGENT_PAGE, "the loop fits its page");

const uint8_t *hagent_code(size_t *len)
{
	*len = sizeof(code);
	return code;
}

void hagent_start_regs(struct user_regs_struct *regs, const struct user_regs_struct *base,
	uint64_t at, int fd, uint64_t msg)
{
	*regs = *base;
	regs->rip = at;
	regs->r12 = (unsigned long long)fd;
	regs->r13 = msg;
	regs->rax = 0;
	regs->orig_rax = (unsigned long long)-1;
	regs->eflags &= ~0x100ull; /* no trap flag */
}

static bool is_restart(unsigned long long rax)
{
	long r = (long)rax;

	return MIG_IS_RESTART(r);
}

bool hagent_fixup(struct user_regs_struct *r, uint64_t at)
{
	uint64_t off = r->rip - at;

	if (r->rip < at || off > OFF_END)
		return false;
	/* a request read, not yet run: answer it without running it */
	if (((off == OFF_RD_END || off == OFF_CMP_JE) && r->rax == HAGENT_REQ_SIZE) ||
		(off >= OFF_BODY && off <= OFF_CALL)) {
		r->rip = at + OFF_AFTER;
		r->rax = (unsigned long long)-MIG_ERESTARTNOINTR;
		r->orig_rax = (unsigned long long)-1; /* no restart of what went before */
		return true;
	}
	/* the forwarded call was interrupted: return its code, no restart here */
	if (off == OFF_AFTER && r->orig_rax != (unsigned long long)-1 && is_restart(r->rax)) {
		r->orig_rax = (unsigned long long)-1;
		return true;
	}
	return false;
}

bool hagent_idle(const struct user_regs_struct *r, uint64_t at)
{
	uint64_t off = r->rip - at;

	if (r->rip < at || off > OFF_END)
		return false;
	return off == 0 || (off == OFF_RD_END && r->rax != HAGENT_REQ_SIZE) ||
		(off >= OFF_DEAD && off < OFF_BODY) || (off == OFF_WR_END && !is_restart(r->rax));
}
