package io.switchboard.server.internal.auth;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelPatternTest {

    private static boolean matches(String pattern, String channel) {
        return ChannelPattern.compile(pattern).matches(channel);
    }

    @Test
    void withoutAStarMatchesOnlyItselfByteForByte() {
        assertTrue(matches("news", "news"));
        assertFalse(matches("news", "News"));
        assertFalse(matches("news", "news/eu"));
        assertFalse(matches("news", "new"));
        assertFalse(matches("", "a"));
        assertTrue(matches("", ""));
    }

    @Test
    void starMatchesAnyRunOfCharactersIncludingNoneAndSlashes() {
        assertTrue(matches("*", "anything/at/all"));
        assertTrue(matches("*", ""));
        assertTrue(matches("news/*", "news/"));
        assertTrue(matches("news/*", "news/eu/fr"));
        assertFalse(matches("news/*", "news"));
        assertFalse(matches("news/*", "sports/news/"));
        assertTrue(matches("*/eu", "news/eu"));
        assertFalse(matches("*/eu", "news/eu/fr"));
    }

    @Test
    void severalStarsMatchTheirPartsInOrderWithoutOverlap() {
        assertTrue(matches("a*b*c", "abc"));
        assertTrue(matches("a*b*c", "a-b-c"));
        assertTrue(matches("a*b*c", "abbbc"));
        assertFalse(matches("a*b*c", "acb"));
        assertFalse(matches("ab*ba", "aba")); // the start and the end may not share a character
        assertTrue(matches("ab*ba", "abba"));
        assertTrue(matches("*room*", "the-room-9"));
        assertTrue(matches("**", "x"));
        assertFalse(matches("a*x*a", "axa-"));
        assertTrue(matches("user/*/inbox", "user/ann/inbox"));
        assertFalse(matches("user/*/inbox", "user/ann/outbox"));
    }

    @Test
    void aMissingListAllowsEveryChannelAndAnEmptyOneNone() {
        assertTrue(ChannelPattern.anyMatches(null, "x"));
        assertFalse(ChannelPattern.anyMatches(List.of(), "x"));
        List<ChannelPattern> list = List.of(ChannelPattern.compile("chat"), ChannelPattern.compile("news/*"));
        assertTrue(ChannelPattern.anyMatches(list, "chat"));
        assertTrue(ChannelPattern.anyMatches(list, "news/eu"));
        assertFalse(ChannelPattern.anyMatches(list, "chat/2"));
    }
}
