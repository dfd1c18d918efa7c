/*
 * Peer of mmf_bench: Boost.Interprocess mapped_region on the benchmark's
 * own file and offsets.
 *
 *   mmf_bench_boost rand FILE OFFSETS COUNT REPS
 *       COUNT random 8-byte reads through one mapped_region of FILE
 *   mmf_bench_boost mapcall FILE OFFSETS COUNT REPS
 *       the same, mapping a 64 KiB mapped_region around each offset
 *   mmf_bench_boost scan FILE OFFSETS COUNT REPS
 *       map FILE, sum its 8-byte words, unmap
 *
 * After one warm-up repetition it prints the nanoseconds of each of REPS
 * repetitions (CLOCK_MONOTONIC), one number per line.
 */
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace bip = boost::interprocess;

namespace
{

volatile std::uint64_t sink;

std::uint64_t now_ns()
{
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000000u +
           static_cast<std::uint64_t>(t.tv_nsec);
}

// The same word sum as mmf_bench's scan cases.
__attribute__((noinline)) std::uint64_t sum_words(const unsigned char *p,
                                                  std::size_t n)
{
    std::uint64_t a = 0, b = 0, c = 0, d = 0;
    std::size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        std::uint64_t w[4];
        std::memcpy(w, p + i, sizeof w);
        a += w[0];
        b += w[1];
        c += w[2];
        d += w[3];
    }
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        a += w;
    }
    return a + b + c + d;
}

std::vector<std::uint64_t> load_offsets(const char *path, std::size_t count)
{
    std::vector<std::uint64_t> off(count);
    std::FILE *f = std::fopen(path, "rb");

    if (f == nullptr ||
        std::fread(off.data(), sizeof off[0], count, f) != count)
        throw std::runtime_error(std::string("cannot read ") + path);
    std::fclose(f);
    return off;
}

std::uint64_t rand_once(const char *path, const std::vector<std::uint64_t> &off)
{
    static bip::file_mapping fm(path, bip::read_only);
    static bip::mapped_region region(fm, bip::read_only);
    const unsigned char *base =
        static_cast<const unsigned char *>(region.get_address());
    std::uint64_t s = 0, t0 = now_ns();

    for (std::uint64_t o : off) {
        std::uint64_t x;
        std::memcpy(&x, base + o, sizeof x);
        s += x;
    }
    sink = sink + s;
    return now_ns() - t0;
}

std::uint64_t mapcall_once(const char *path,
                           const std::vector<std::uint64_t> &off)
{
    const std::uint64_t window = 64 * 1024;
    static bip::file_mapping fm(path, bip::read_only);
    std::uint64_t s = 0, t0 = now_ns();

    for (std::uint64_t o : off) {
        std::uint64_t win = o & ~(window - 1), x;
        bip::mapped_region r(fm, bip::read_only,
                             static_cast<bip::offset_t>(win), window);
        std::memcpy(
            &x, static_cast<const unsigned char *>(r.get_address()) + (o - win),
            sizeof x);
        s += x;
    }
    sink = sink + s;
    return now_ns() - t0;
}

std::uint64_t scan_once(const char *path)
{
    std::uint64_t t0 = now_ns();
    {
        bip::file_mapping fm(path, bip::read_only);
        bip::mapped_region region(fm, bip::read_only);
        sink =
            sink +
            sum_words(static_cast<const unsigned char *>(region.get_address()),
                      region.get_size());
    }
    return now_ns() - t0;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 6) {
        std::fprintf(stderr,
                     "usage: %s rand|mapcall|scan FILE OFFSETS "
                     "COUNT REPS\n",
                     argv[0]);
        return 2;
    }
    try {
        std::string mode = argv[1];
        const char *path = argv[2];
        std::size_t count = std::strtoull(argv[4], nullptr, 10);
        int reps = std::atoi(argv[5]);
        std::vector<std::uint64_t> off;

        if (mode != "scan")
            off = load_offsets(argv[3], count);
        for (int r = -1; r < reps; r++) { // r == -1: warm-up
            std::uint64_t ns;
            if (mode == "rand")
                ns = rand_once(path, off);
            else if (mode == "mapcall")
                ns = mapcall_once(path, off);
            else if (mode == "scan")
                ns = scan_once(path);
            else
                throw std::runtime_error("unknown mode " + mode);
            if (r >= 0)
                std::printf("%llu\n", static_cast<unsigned long long>(ns));
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "mmf_bench_boost: %s\n", e.what());
        return 1;
    }
    return 0;
}
