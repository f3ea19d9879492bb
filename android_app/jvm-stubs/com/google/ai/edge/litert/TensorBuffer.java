// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/TensorBuffer.kt: `class TensorBuffer internal constructor(handle: Long) : JniHandle(handle)`; each read/write
// `@Throws(LiteRtException::class)`. Only the members the glue uses.
package com.google.ai.edge.litert;

public final class TensorBuffer extends JniHandle {
    private TensorBuffer() {}

    public void writeInt(int[] data) throws LiteRtException {}

    public void writeFloat(float[] data) throws LiteRtException {}

    public void writeInt8(byte[] data) throws LiteRtException {}

    public int[] readInt() throws LiteRtException { return null; }

    public float[] readFloat() throws LiteRtException { return null; }

    public byte[] readInt8() throws LiteRtException { return null; }
}
