// The public header must compile as C++ (extern "C", inline accessors).
#include "mmf.h"

#include <cstdio>

int main()
{
    mmf_file *f = nullptr;
    mmf_view *v = nullptr;
    double got = 0;

    if (mmf_create_new(nullptr, 64, MMF_ACCESS_READ_WRITE, 0, &f) != MMF_OK ||
        mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v) != MMF_OK ||
        mmf_view_write_f64(v, 56, 2.5) != MMF_OK ||
        mmf_view_read_f64(v, 56, &got) != MMF_OK || got != 2.5 ||
        mmf_view_read_f64(v, 57, &got) != MMF_ERANGE) {
        std::fprintf(stderr, "header round trip failed in C++\n");
        return 1;
    }
    mmf_view_close(v);
    mmf_close(f);
    std::printf("header ok (C++)\n");
    return 0;
}
