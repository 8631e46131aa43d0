/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * <linux/types.h> includes <asm/types.h>, which Debian installs under the
 * host's multiarch directory (/usr/include/x86_64-linux-gnu/asm), a path
 * clang does not search for -target bpf. Every Linux architecture defines
 * the fixed-width types the same way, so use the generic definitions and
 * keep the build independent of the host.
 */
#include <asm-generic/int-ll64.h>
