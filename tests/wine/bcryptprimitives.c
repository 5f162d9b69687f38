/* Wine 8 (Debian 12) has no bcryptprimitives.dll, whose ProcessPrng the
 * Rust standard library and getrandom call on Windows 10 and later. For the
 * C API tests under Wine only (scripts/cross.sh), this stand-in provides
 * ProcessPrng on top of RtlGenRandom (advapi32's SystemFunction036), which
 * Wine has. Real Windows ships the real DLL; it is never installed. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
