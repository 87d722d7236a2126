// gtest_shim_main.cpp runs the cases registered through the GoogleTest shim.
#include <gtest/gtest.h>

int main() {
	return gtest_shim::RunAll();
}
