/* An external LiteRT delegate that misbehaves on purpose, for the runner's failure tests.
 * Option mode=abort: Prepare calls abort() (the cell process dies with SIGABRT).
 * Option mode=hang:  Prepare sleeps forever (the cell hits its timeout).
 * Option mode=fail:  Prepare returns kTfLiteError (the delegate fails to prepare).
 * Mirrors the first fields of TfLiteDelegate from tensorflow/lite/core/c/common.h (ABI-stable order). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct FaultyDelegate {
  void* data_;
  int (*Prepare)(void* context, struct FaultyDelegate* delegate);
  void* CopyFromBufferHandle;
  void* CopyToBufferHandle;
  void* FreeBufferHandle;
  int64_t flags;
  void* opaque_delegate_builder;
} FaultyDelegate;

static int prepare_abort(void* context, FaultyDelegate* delegate) { abort(); }
static int prepare_hang(void* context, FaultyDelegate* delegate) { for (;;) pause(); }
static int prepare_fail(void* context, FaultyDelegate* delegate) { return 1; /* kTfLiteError */ }

FaultyDelegate* tflite_plugin_create_delegate(char** keys, char** values, size_t count,
                                              void (*report_error)(const char*)) {
  FaultyDelegate* delegate = calloc(1, sizeof(FaultyDelegate));
  delegate->Prepare = prepare_abort;
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(keys[i], "mode") != 0) continue;
    if (strcmp(values[i], "hang") == 0) delegate->Prepare = prepare_hang;
    if (strcmp(values[i], "fail") == 0) delegate->Prepare = prepare_fail;
  }
  return delegate;
}

void tflite_plugin_destroy_delegate(FaultyDelegate* delegate) { free(delegate); }
