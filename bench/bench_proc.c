/* What the benchmarks read of a process and of the machine from /proc:
 * see bench.h ("/proc"). */
#include "bench.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

double glci_bench_loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double v = -1;
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

long long glci_bench_cpu_ticks(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');   /* the command name may hold spaces */
    unsigned long long ut = 0, st = 0;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        return -1;
    return (long long)(ut + st);
}

double glci_bench_cpu_s(pid_t pid)
{
    long long t = glci_bench_cpu_ticks(pid);
    return t < 0 ? -1 : (double)t / (double)sysconf(_SC_CLK_TCK);
}

long glci_bench_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

long glci_bench_status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kib = -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0 && sscanf(line + len, "%ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int glci_bench_machine(glci_bench_machine_t *m)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    /* cpu user nice system idle iowait irq softirq steal (guest time is
     * counted in user already) */
    unsigned long long v[8];
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return -1;
    m->idle = v[3] + v[4];
    m->steal = v[7];
    m->total = 0;
    for (int i = 0; i < 8; i++)
        m->total += v[i];
    return 0;
}

double glci_bench_share(const glci_bench_machine_t *a, const glci_bench_machine_t *b,
                        int steal)
{
    if (!a->total || b->total <= a->total)
        return -1;
    unsigned long long part = steal ? b->steal - a->steal : b->idle - a->idle;
    return 100.0 * (double)part / (double)(b->total - a->total);
}
