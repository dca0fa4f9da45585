/* image: the in-memory checkpoint, its maps parser and the cantmove words. */
#include "ckpt/image.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const char *const ckpt_words[] = {
	"monkey", "mmap_dev", "mem_lock", "clone_vm", "rt_sched", "system", "ptraced", "shm",
	"gone",
};

const char *ckpt_why_word(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(ckpt_words) / sizeof(ckpt_words[0]); i++)
		if (bit == 1u << i)
			return ckpt_words[i];
	return NULL;
}

struct ckpt_image *ckpt_image_new(void)
{
	return calloc(1, sizeof(struct ckpt_image));
}

void *ckpt_data_alloc(size_t len, bool populate)
{
	void *p;

	if (!len)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (populate ? MAP_POPULATE : 0), -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void ckpt_data_free(void *data, size_t len)
{
	if (data && len)
		munmap(data, len);
}

void ckpt_image_free(struct ckpt_image *img)
{
	if (!img)
		return;
	for (uint32_t i = 0; i < img->nr_regions; i++) {
		struct ckpt_region *r = &img->regions[i];

		free(r->name);
		ckpt_data_free(r->data, r->end - r->start);
	}
	free(img->regions);
	free(img->cmdline);
	free(img->xstate);
	free(img->auxv);
	free(img);
}

int ckpt_image_add_region(struct ckpt_image *img, const struct ckpt_region *r)
{
	struct ckpt_region *n;
	char *name = NULL;

	if (r->name && !(name = strdup(r->name)))
		return -ENOMEM;
	n = realloc(img->regions, (img->nr_regions + 1) * sizeof(*n));
	if (!n) {
		free(name);
		return -ENOMEM;
	}
	img->regions = n;
	n[img->nr_regions] = *r;
	n[img->nr_regions].name = name;
	img->nr_regions++;
	return 0;
}

uint64_t ckpt_image_data_bytes(const struct ckpt_image *img)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < img->nr_regions; i++)
		if (img->regions[i].flags & CKPT_RF_DATA)
			sum += img->regions[i].end - img->regions[i].start;
	return sum;
}

int ckpt_parse_maps_line(const char *line, struct ckpt_region *r, bool *shared)
{
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	char perms[8];
	int n = 0;
	const char *name;
	size_t len;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &start, &end, perms, &off, &maj, &min,
		   &ino, &n) != 7 || n <= 0)
		return -EINVAL;
	if (start >= end || strlen(perms) != 4 || (start | end) % CKPT_PAGE_SIZE)
		return -EINVAL;
	r->start = start;
	r->end = end;
	r->pgoff = off;
	if (perms[0] == 'r')
		r->prot |= PROT_READ;
	else if (perms[0] != '-')
		return -EINVAL;
	if (perms[1] == 'w')
		r->prot |= PROT_WRITE;
	else if (perms[1] != '-')
		return -EINVAL;
	if (perms[2] == 'x')
		r->prot |= PROT_EXEC;
	else if (perms[2] != '-')
		return -EINVAL;
	if (perms[3] != 's' && perms[3] != 'p')
		return -EINVAL;
	*shared = perms[3] == 's';

	name = line + n;
	while (*name == ' ' || *name == '\t')
		name++;
	len = strcspn(name, "\n");
	if (!len)
		return 0;
	if (len == 7 && !strncmp(name, "[stack]", 7))
		r->flags |= CKPT_RF_STACK;
	else if (len == 6 && !strncmp(name, "[heap]", 6))
		r->flags |= CKPT_RF_HEAP;
	else if (len == 6 && !strncmp(name, "[vdso]", 6))
		r->flags |= CKPT_RF_VDSO;
	else if (len == 6 && !strncmp(name, "[vvar]", 6))
		r->flags |= CKPT_RF_VVAR;
	else if (len == 13 && !strncmp(name, "[vvar_vclock]", 13))
		r->flags |= CKPT_RF_VCLOCK;
	else if (name[0] == '/')
		r->flags |= CKPT_RF_FILE;
	r->name = strndup(name, len);
	if (!r->name)
		return -ENOMEM;
	return 0;
}

int ckpt_image_validate(const struct ckpt_image *img)
{
	unsigned specials = 0;
	uint64_t prev_end = 0;

	if (img->xstate_len > CKPT_XSTATE_MAX || (img->xstate_len && !img->xstate))
		return -EINVAL;
	if (img->auxv_words > CKPT_AUXV_MAX || img->auxv_words % 2 || (img->auxv_words && !img->auxv))
		return -EINVAL;
	if (img->cmdline_len > CKPT_CMDLINE_MAX || (img->cmdline_len && !img->cmdline))
		return -EINVAL;
	if (img->nr_regions > CKPT_MAX_REGIONS || (img->nr_regions && !img->regions))
		return -EINVAL;
	for (uint32_t i = 0; i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];
		unsigned sp = r->flags & CKPT_RF_SPECIAL;

		if (r->start < prev_end || r->start >= r->end || r->end > CKPT_TASK_SIZE ||
		    (r->start | r->end) % CKPT_PAGE_SIZE || r->flags & ~CKPT_RF_ALL ||
		    r->prot & ~7u)
			return -EINVAL;
		if (sp && ((sp & (sp - 1)) || (specials & sp) || (r->flags & CKPT_RF_DATA)))
			return -EINVAL;
		if ((r->flags & CKPT_RF_FILEMAP) &&
		    ((r->flags & (CKPT_RF_DATA | CKPT_RF_SPECIAL | CKPT_RF_STACK)) || !r->name ||
		     r->name[0] != '/'))
			return -EINVAL;
		if (img->lazy ? r->data != NULL : !(r->flags & CKPT_RF_DATA) != !r->data)
			return -EINVAL;
		specials |= sp;
		prev_end = r->end;
	}
	return 0;
}
