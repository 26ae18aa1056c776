// How a fresh call could find the pages it dirtied, measured on this kernel.
// Built and run by scripts/dirty-tracking-probe.sh. A 2 MiB image (the size
// of the guest's snapshot) is mapped MAP_PRIVATE from a memfd with every
// page present, as a sandbox's is; each "call" writes WRITTEN pages (what a
// trivial fetch call dirties), then each method finds them and copies them
// back from the image:
//   kept    what runtime/src/snapshot.rs does: written pages stay private
//           copies, PAGEMAP_SCAN lists the anonymous ones (PAGE_IS_FILE
//           needs a look at each present page's struct page)
//   dirty   soft-dirty bits (PAGE_IS_SOFT_DIRTY): no struct page lookups,
//           needs CONFIG_MEM_SOFT_DIRTY
//   uffd    userfaultfd write-protect in async mode (UFFD_FEATURE_WP_ASYNC,
//           PAGE_IS_WRITTEN): only this call's pages are listed, but every
//           first write to a page takes a fault, and each is protected again
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// include/uapi/linux/fs.h (Linux 6.7+); Debian 12's headers predate it.
struct page_region { uint64_t start, end, categories; };
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

enum { PAGES = 512, WRITTEN = 43, CALLS = 2000, PS = 4096 };
static int pm;
static char *image;
static struct page_region regions[PAGES];

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static char *sandbox(void) {
    int fd = memfd_create("image", 0);
    if (ftruncate(fd, PAGES * PS)) return NULL;
    if (!image) {
        image = mmap(NULL, PAGES * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        memset(image, 7, PAGES * PS);
    } else if (pwrite(fd, image, PAGES * PS, 0) != PAGES * PS) return NULL;
    char *p = mmap(NULL, PAGES * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    volatile char sum = 0;
    for (int i = 0; i < PAGES; i++) sum += p[i * PS]; // every page present
    return p;
}

static long scan(char *p, uint64_t inverted, uint64_t mask) {
    struct pm_scan_arg a = {.size = sizeof a, .start = (uint64_t)p, .end = (uint64_t)(p + PAGES * PS),
                            .vec = (uint64_t)regions, .vec_len = PAGES, .category_inverted = inverted,
                            .category_mask = mask, .return_mask = mask};
    return ioctl(pm, PAGEMAP_SCAN, &a);
}

static long copy_back(char *p, long n) {
    long pages = 0;
    for (long i = 0; i < n; i++) {
        size_t off = (char *)regions[i].start - p, len = regions[i].end - regions[i].start;
        memcpy(p + off, image + off, len);
        pages += len / PS;
    }
    return pages;
}

static void write_call(char *p, int k) {
    for (int i = 0; i < WRITTEN; i++) p[(i * (PAGES / WRITTEN)) * PS + k % PS] = 1;
}

// method: 0 kept, 1 dirty, 2 uffd (uffd: its descriptor)
static void run(const char *name, char *p, int method, int uffd) {
    double writes = 0, reset = 0;
    long pages = 0;
    for (int k = 0; k < CALLS; k++) {
        double t0 = now_us();
        write_call(p, k);
        double t1 = now_us();
        long n = method == 0 ? scan(p, PAGE_IS_FILE | PAGE_IS_PFNZERO, PAGE_IS_PRESENT | PAGE_IS_FILE | PAGE_IS_PFNZERO)
                 : method == 1 ? scan(p, 0, PAGE_IS_PRESENT | PAGE_IS_SOFT_DIRTY)
                               : scan(p, 0, PAGE_IS_WRITTEN);
        if (n < 0) { printf("%-6s PAGEMAP_SCAN failed (Linux 6.7+ needed)\n", name); return; }
        pages = copy_back(p, n);
        for (long i = 0; method == 2 && i < n; i++) {
            struct uffdio_writeprotect wp = {.range = {regions[i].start, regions[i].end - regions[i].start},
                                             .mode = UFFDIO_WRITEPROTECT_MODE_WP};
            ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
        }
        writes += t1 - t0;
        reset += now_us() - t1;
    }
    printf("%-6s pages found per call %3ld (of %d written)  writes %6.2f us  find + copy back %6.2f us  total %6.2f us%s\n",
           name, pages, WRITTEN, writes / CALLS, reset / CALLS, (writes + reset) / CALLS,
           pages < WRITTEN ? "  UNUSABLE here: misses written pages" : "");
}

int main(void) {
    pm = open("/proc/self/pagemap", O_RDONLY);
    if (pm < 0) { perror("/proc/self/pagemap"); return 1; }
    run("kept", sandbox(), 0, -1);
    run("dirty", sandbox(), 1, -1);
    char *p = sandbox();
    int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC};
    struct uffdio_register reg = {.range = {(uint64_t)p, PAGES * PS}, .mode = UFFDIO_REGISTER_MODE_WP};
    struct uffdio_writeprotect wp = {.range = {(uint64_t)p, PAGES * PS}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
    if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg) || ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
        printf("uffd   unavailable: %s\n", strerror(errno));
    else
        run("uffd", p, 2, uffd);
    return 0;
}
