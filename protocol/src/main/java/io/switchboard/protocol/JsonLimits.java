package io.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;

/** The bounds every dialect's JSON decoder reads under, as jackson's {@link StreamReadConstraints}. */
public final class JsonLimits {

    private JsonLimits() {
    }

    /**
     * Returns a parser factory that refuses nesting deeper than {@code maxNestingDepth} and any
     * string, name, number or document longer than {@code maxMessageBytes}, the transport's limit.
     */
    public static JsonFactory factory(int maxMessageBytes, int maxNestingDepth) {
        return JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(maxNestingDepth)
                        .maxStringLength(maxMessageBytes)
                        .maxNameLength(maxMessageBytes)
                        .maxNumberLength(maxMessageBytes)
                        .maxDocumentLength(maxMessageBytes)
                        .build())
                .build();
    }
}
