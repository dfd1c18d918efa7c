#include "test.h"

TEST(version_and_errors)
{
    CHECK_EQ(mmf_version(), MMF_VERSION_NUMBER);
    CHECK(strcmp(mmf_version_string(), "0.1.0") == 0);
}
