/* fpu: x87, SSE and AVX registers live across the move. An assembler loop
 * keeps its values in ymm0-4 and the x87 stack only, counting in rcx, until
 * SIGUSR1; then the results must be exact. The rounding mode (FE_DOWNWARD)
 * must survive in both the x87 control word and MXCSR. */
#include "victim.h"

#include <fenv.h>
#include <stdint.h>

/* a division the compiler cannot move across fesetround() */
static double divide(double x, double y)
{
	__asm__ volatile("divsd %1, %0" : "+x"(x) : "x"(y));
	return x;
}

int main(void)
{
	static const double init[4] = { 0.5, 1.5, 2.5, 3.5 }, inc[4] = { 1, 2, 3, 4 };
	static const double one = 1.0, ten = 10.0;
	double out[4], q, e_down, e_near;
	long double x87;
	uint64_t k;
	unsigned mxcsr;
	unsigned short cw;

	e_near = divide(1.0, 10.0);
	fesetround(FE_DOWNWARD);
	e_down = divide(1.0, 10.0);
	if (e_down == e_near)
		return v_fail("FE_DOWNWARD has no effect here");

	v_ready();
	__asm__ volatile(
		"vmovupd (%[init]), %%ymm0\n\t"
		"vmovupd (%[inc]), %%ymm1\n\t"
		"vmovsd (%[one]), %%xmm3\n\t"
		"vmovsd (%[ten]), %%xmm4\n\t"
		"fldl (%[one])\n\t"
		"fldz\n\t"
		"xor %%ecx, %%ecx\n"
		"1:\n\t"
		"vaddpd %%ymm1, %%ymm0, %%ymm0\n\t"
		"vdivsd %%xmm4, %%xmm3, %%xmm2\n\t"
		"fadd %%st(1), %%st(0)\n\t"
		"inc %%rcx\n\t"
		"cmpl $0, (%[flag])\n\t"
		"je 1b\n\t"
		"vmovupd %%ymm0, (%[out])\n\t"
		"vmovsd %%xmm2, (%[q])\n\t"
		"fstpt (%[x87])\n\t"
		"fstp %%st(0)\n\t"
		"mov %%rcx, %[k]\n\t"
		"vzeroupper\n\t"
		: [k] "=r"(k)
		: [init] "r"(init), [inc] "r"(inc), [one] "r"(&one), [ten] "r"(&ten),
		  [flag] "r"(&v_go), [out] "r"(out), [q] "r"(&q), [x87] "r"(&x87)
		: "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "memory", "cc", "st", "st(1)");

	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	if ((mxcsr & 0x6000) != 0x2000)
		return v_fail("MXCSR %#x lost the rounding mode", mxcsr);
	if ((cw & 0xc00) != 0x400)
		return v_fail("x87 control word %#x lost the rounding mode", cw);
	if (fegetround() != FE_DOWNWARD)
		return v_fail("fegetround() is not FE_DOWNWARD");
	if (k < 1000)
		return v_fail("only %llu iterations", (unsigned long long)k);
	for (int i = 0; i < 4; i++)
		if (out[i] != init[i] + (double)k * inc[i])
			return v_fail("ymm0 lane %d is %.17g, want %.17g", i, out[i],
				      init[i] + (double)k * inc[i]);
	if (q != e_down)
		return v_fail("xmm2 is %.17g, want %.17g (rounded down)", q, e_down);
	if (x87 != (long double)k)
		return v_fail("x87 accumulator %.21Lg, want %llu", x87, (unsigned long long)k);
	return v_pass();
}
