package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class SchemaTest {
    @Test
    public void anyMinorOfOurMajorIsReadAndUnknownFieldsAreIgnored() throws Exception {
        Plan plan = Schema.fromJson(
                "{\"schema_version\": \"1.9\", \"run_id\": \"r\", \"model_name\": \"m\", \"variants\": [],"
                        + " \"input_set\": \"inputs.npz\", \"a_field_from_1_9\": 3}",
                Plan.class, "plan.json");
        assertEquals("r", plan.runId);
        assertEquals(50, plan.measure.runs); // absent: the same default as Python's
    }

    @Test
    public void anotherMajorIsRefusedNamingTheFileAndBothVersions() {
        Schema.SchemaException e = assertThrows(Schema.SchemaException.class,
                () -> Schema.fromJson("{\"schema_version\": \"2.0\"}", Plan.class, "/x/plan.json"));
        assertEquals("/x/plan.json: schema version 2.0 cannot be read by this runner (reads 1.x)", e.getMessage());
        e = assertThrows(Schema.SchemaException.class, () -> Schema.fromJson("[1]", Plan.class, "p"));
        assertTrue(e.getMessage().startsWith("p: not valid JSON"));
    }

    @Test
    public void resultsAreWrittenInSnakeCaseWithNulls() {
        CellResult r = new CellResult();
        r.timing = new CellResult.Timing();
        String json = Schema.toJson(r);
        assertTrue(json, json.contains("\"p50_ms\": null"));
        assertTrue(json, json.contains("\"temperature_before_c\": {}"));
        // the version itself is checked against Python's by tests/integration/test_android_schema.py
        assertTrue(json, json.contains("\"schema_version\": \"" + Schema.VERSION + "\""));
        assertTrue(json, json.contains("\"fully_accelerated\": null"));
    }
}
