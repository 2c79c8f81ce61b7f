/* Device numbers and names (device.h). */
#include "device.h"

#include "errtext.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

int sbai_device_parse(const char *text, size_t len, int *device, char *err, size_t errlen)
{
  char q[SBAI_TEXT_LEN];
  if (len == 3 && strncasecmp(text, "CPU", 3) == 0) {
    *device = SBAI_DEVICE_CPU;
    return 0;
  }
  if (len == 3 && strncasecmp(text, "GPU", 3) == 0) {
    *device = 0;
    return 0;
  }
  if (len >= 4 && strncasecmp(text, "GPU:", 4) == 0) {
    int n = 0;
    size_t i = 4;
    /* Decimal digits only, no sign, no leading zeros but "0", in range. */
    if (len == 4 || len > 6 || (text[4] == '0' && len > 5))
      goto bad_gpu;
    for (; i < len; i++) {
      if (!isdigit((unsigned char)text[i]))
        goto bad_gpu;
      n = n * 10 + (text[i] - '0');
    }
    if (n >= SBAI_MAX_GPUS)
      goto bad_gpu;
    *device = n;
    return 0;
  }
  return sbai_errf(err, errlen, "unknown device '%s' (expected CPU, GPU or GPU:<n>)",
                   sbai_printable(text, len, q));
bad_gpu:
  return sbai_errf(err, errlen,
                   "invalid device '%s': expected GPU:<n> with n a GPU number from 0 to %d",
                   sbai_printable(text, len, q), SBAI_MAX_GPUS - 1);
}

const char *sbai_device_name(int device, char buf[SBAI_DEVICE_NAME_LEN])
{
  if (device < 0)
    snprintf(buf, SBAI_DEVICE_NAME_LEN, "CPU");
  else
    snprintf(buf, SBAI_DEVICE_NAME_LEN, "GPU:%d", device);
  return buf;
}
