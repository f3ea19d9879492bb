package com.edgebench.runner.core;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * The plan (host to device) and cell result (device to host) as JSON, exactly as
 * edgebench_records/protocol.py reads and writes them: snake_case names, nulls written, the same
 * "MAJOR.MINOR" schema_version rule (any minor of our major is read; another major is refused).
 */
public final class Schema {
    public static final String VERSION = "1.8"; // the result record's (edgebench_records/protocol.py)
    // The plan record's, versioned apart from the result's (protocol.py PLAN_RECORD): what a plan built in the
    // core says (its tests' plans; the host's carry their own).
    public static final String PLAN_VERSION = "1.7";

    public static final String OK = "ok";
    public static final String DELEGATE_UNAVAILABLE = "delegate_unavailable";
    public static final String DELEGATE_FAILED = "delegate_failed";
    public static final String INCOMPATIBLE = "incompatible";
    public static final String CRASHED = "crashed";
    public static final String TIMEOUT = "timeout";
    public static final String WRONG_OUTPUT = "wrong_output"; // outputs far from the host's reference kernels

    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .serializeNulls()
            .serializeSpecialFloatingPointValues()
            .setPrettyPrinting()
            .create();

    private Schema() {}

    public static String toJson(Object record) {
        return GSON.toJson(record);
    }

    /** Parses ``text`` as ``type`` after checking its schema_version; ``source`` names the file in errors. */
    public static <T> T fromJson(String text, Class<T> type, String source) throws SchemaException {
        JsonObject object;
        try {
            object = JsonParser.parseString(text).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new SchemaException(source + ": not valid JSON (" + e.getMessage() + ")");
        }
        String version = object.has("schema_version") ? object.get("schema_version").getAsString() : "";
        String major = version.split("\\.", 2)[0];
        if (major.isEmpty() || !major.chars().allMatch(Character::isDigit)) {
            throw new SchemaException(source + ": no schema_version; not an edgebench file");
        }
        if (!major.equals(VERSION.split("\\.", 2)[0])) {
            throw new SchemaException(source + ": schema version " + version + " cannot be read by this runner (reads "
                    + VERSION.split("\\.", 2)[0] + ".x)");
        }
        try {
            return GSON.fromJson(object, type);
        } catch (JsonParseException e) {
            throw new SchemaException(source + ": not a valid " + type.getSimpleName() + ": " + e.getMessage());
        }
    }

    /** A file that is not a plan or result this runner can read. */
    public static final class SchemaException extends Exception {
        public SchemaException(String message) {
            super(message);
        }
    }
}
