/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* See types.h: the generic definition fits the 64-bit BPF target. */
#include <asm-generic/bitsperlong.h>
