package io.switchboard.server.internal.dialect.randomchat;

import io.switchboard.protocol.randomchat.BriefMessage;
import io.switchboard.protocol.randomchat.ChatState;
import io.switchboard.protocol.randomchat.User;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore.Login;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore.Outcome;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore.Pending;
import io.switchboard.server.internal.metrics.Metrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link RandomchatStore} contract, called directly (no WebSocket, no hub in between): every
 * operation's rules and refusals, each limit at its boundary (N allowed, N+1 refused), the pending
 * bound and time limit, what a deleted chat or a removed member takes with it, logout and hand-back,
 * and the atomicity the rules need under concurrent calls. {@link SqliteRandomchatStoreTest} and
 * {@link RedisRandomchatStoreTest} run it, each with tests of its own store's mechanics.
 */
@Timeout(60)
abstract class RandomchatStoreContract {

    static final int MAX_PENDING = 3;
    static final Duration TTL = Duration.ofHours(1);
    static final int MAX_MEMBERS = 3;
    static final int MAX_CHATS = 2;
    static final int MAX_ADDED = 2;
    private static final AtomicInteger RUN = new AtomicInteger();

    /** Keeps each test's phones and chats apart from the others' on a shared Redis. */
    final String run = "s" + RUN.incrementAndGet() + "-";
    private final List<RandomchatStore> opened = new ArrayList<>();
    /** The metrics the test's stores count in. */
    final Metrics metrics = new Metrics();

    /** The settings the contract runs with; {@code tune} changes them. */
    static SwitchboardConfig.Builder settings() {
        return SwitchboardConfig.builder().randomchatMaxPending(MAX_PENDING).randomchatPendingTtl(TTL)
                .randomchatMaxMembers(MAX_MEMBERS).randomchatMaxChatsPerUser(MAX_CHATS)
                .randomchatMaxAddedChatsPerUser(MAX_ADDED);
    }

    /** Opens a store of its own for the test, with {@link #settings()} changed by {@code tune}. */
    abstract RandomchatStore open(UnaryOperator<SwitchboardConfig.Builder> tune);

    /** Releases what {@link #open} set up beside the store (after the stores are closed). */
    void release() {
    }

    RandomchatStore store() {
        return store(UnaryOperator.identity());
    }

    RandomchatStore store(UnaryOperator<SwitchboardConfig.Builder> tune) {
        RandomchatStore s = open(tune);
        opened.add(s);
        return s;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(s -> s.close().join());
        release();
    }

    static <T> T ok(CompletableFuture<T> f) {
        return f.join();
    }

    /** The refusal {@code f} completes with. */
    static RandomchatRefusal refused(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        assertTrue(e.getCause() instanceof RandomchatRefusal, () -> "not a refusal: " + e.getCause());
        return (RandomchatRefusal) e.getCause();
    }

    static void assertRefused(RandomchatRefusal expected, CompletableFuture<?> f) {
        RandomchatRefusal r = refused(f);
        assertEquals(expected.getMessage(), r.getMessage());
        assertEquals(expected.limit, r.limit);
    }

    static long now() {
        return System.currentTimeMillis();
    }

    String phone(String name) {
        return run + name;
    }

    /** Registers {@code name} (phone {@code run + name}); returns its first login. */
    Login register(RandomchatStore s, String name) {
        Login l = ok(s.login(name, phone(name), null, now()));
        assertNotNull(l.token(), "a first registration returns a token");
        return l;
    }

    /** Logs {@code first}'s user in again. */
    static Login again(RandomchatStore s, Login first, long now) {
        return ok(s.login(first.user().name(), first.user().phone(), first.token(), now));
    }

    /** Closes the login's connection with nothing missed and nothing delivered. */
    static void logout(RandomchatStore s, Login l) {
        ok(s.logout(l.user().phone(), l.connection(), List.of(), List.of(), now()));
    }

    long dropped(Metrics.RandomchatDrop why) {
        return metrics.randomchatDrops.get(why).sum();
    }

    static List<String> texts(Login l) {
        return l.chats().stream().flatMap(c -> c.messages().stream()).map(BriefMessage::message)
                .collect(Collectors.toList());
    }

    static List<String> texts(Login l, String chat) {
        return l.chats().stream().filter(c -> c.chat().name().equals(chat)).flatMap(c -> c.messages().stream())
                .map(BriefMessage::message).collect(Collectors.toList());
    }

    static List<String> chats(Login l) {
        return l.chats().stream().map(ChatState::chat).map(c -> c.name()).collect(Collectors.toList());
    }

    static List<String> phones(Outcome o) {
        return o.chat().members().stream().map(User::phone).collect(Collectors.toList());
    }

    /**
     * {@code by} sends {@code text}, and its connection writes its own copy (as a session tells the
     * store), so that only the other members' copies stay in flight.
     */
    static Outcome send(RandomchatStore s, Login by, String chat, String text, long now) {
        Outcome o = ok(s.sendMessage(by.user().phone(), chat, text, now));
        ok(s.delivered(by.user().phone(), List.of(o.message().id())));
        return o;
    }

    /** A chat of {@code owner} with {@code members} added. */
    String chatOf(RandomchatStore s, String name, Login owner, Login... members) {
        String c = run + name;
        ok(s.createChat(owner.user().phone(), c));
        for (Login m : members) {
            ok(s.addMember(owner.user().phone(), c, m.user().phone()));
        }
        return c;
    }

    // ---- login, tokens, names ----

    @Test
    void aFirstLoginRegistersWithATokenThatLaterLoginsMustCarry() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        assertEquals(43, ann.token().length());
        assertEquals(List.of(), ann.chats());
        assertEquals(User.NEVER, ann.user().disconnectionDate());
        String p = phone("ann");
        assertRefused(RandomchatRefusal.tokenMissing(p), s.login("Ann", p, null, now()));
        // Another first character: "x" + the rest was the token itself in one run out of 64.
        String wrong = (ann.token().charAt(0) == 'x' ? "y" : "x") + ann.token().substring(1);
        assertRefused(RandomchatRefusal.tokenWrong(p), s.login("Ann", p, wrong, now()));
        Login second = again(s, ann, now());
        assertNull(second.token(), "a login returns no new token");
        assertNotEquals(ann.connection(), second.connection());
    }

    @Test
    void openLoginNeedsNoToken() {
        RandomchatStore s = store(b -> b.randomchatOpenLogin(true));
        Login ann = register(s, "ann");
        assertNull(ok(s.login("Ann", ann.user().phone(), null, now())).token());
        assertNull(ok(s.login("Ann", ann.user().phone(), "wrong", now())).token());
    }

    @Test
    void theNameGivenAtALoginReplacesTheStoredOne() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        Login renamed = ok(s.login("Robert", bob.user().phone(), bob.token(), now()));
        assertEquals("Robert", renamed.user().name());
        assertEquals(List.of("ann", "Robert"), renamed.chats().get(0).chat().members().stream().map(User::name)
                .collect(Collectors.toList()));
        Outcome o = ok(s.sendMessage(ann.user().phone(), c, "hi", now()));
        assertEquals("Robert", o.chat().members().get(1).name());
    }

    @Test
    void aWithdrawnTokenLetsThePhoneRegisterAgainAndOnlyThatToken() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        String p = ann.user().phone();
        ok(s.withdrawToken(p, ann.token()));
        Login fresh = ok(s.login("Ann", p, null, now()));
        assertNotNull(fresh.token(), "a new token for the phone whose first never reached its client");
        assertNotEquals(ann.token(), fresh.token());
        ok(s.withdrawToken(p, ann.token())); // no longer the user's token: nothing changes
        assertRefused(RandomchatRefusal.tokenMissing(p), s.login("Ann", p, null, now()));
        assertNull(ok(s.login("Ann", p, fresh.token(), now())).token());
    }

    // ---- chats, members, limits ----

    @Test
    void aChatNameIsTakenOnceAndFreeAgainWhenTheChatIsDeleted() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = run + "c";
        Outcome created = ok(s.createChat(ann.user().phone(), c));
        assertEquals(RandomchatStore.Event.NEW_MEMBER, created.event());
        assertEquals(List.of(ann.user().phone()), phones(created));
        assertEquals(ann.user().phone(), created.chat().owner().phone());
        assertRefused(RandomchatRefusal.chatExists(c), s.createChat(bob.user().phone(), c));
        assertRefused(RandomchatRefusal.notMember(c), s.deleteChat(bob.user().phone(), c));
        ok(s.addMember(ann.user().phone(), c, bob.user().phone()));
        assertRefused(RandomchatRefusal.notOwnerDelete(c), s.deleteChat(bob.user().phone(), c));
        Outcome deleted = ok(s.deleteChat(ann.user().phone(), c));
        assertEquals(RandomchatStore.Event.CHAT_DELETED, deleted.event());
        assertEquals(List.of(ann.user().phone(), bob.user().phone()), phones(deleted));
        assertRefused(RandomchatRefusal.noChat(c), s.deleteChat(ann.user().phone(), c));
        assertRefused(RandomchatRefusal.noChat(c), s.sendMessage(ann.user().phone(), c, "x", now()));
        ok(s.createChat(bob.user().phone(), c));
    }

    @Test
    void aUserOwnsAtMostMaxChatsPerUser() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        String p = ann.user().phone();
        for (int i = 0; i < MAX_CHATS; i++) {
            ok(s.createChat(p, run + "own" + i));
        }
        assertRefused(RandomchatRefusal.tooManyChats(p, MAX_CHATS), s.createChat(p, run + "one-more"));
        assertEquals(Metrics.RandomchatLimit.OWNED_CHATS, refused(s.createChat(p, run + "one-more")).limit);
        ok(s.deleteChat(p, run + "own0"));
        ok(s.createChat(p, run + "one-more"));
    }

    @Test
    void aChatHasAtMostMaxMembers() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login cy = register(s, "cy");
        Login dee = register(s, "dee");
        String c = chatOf(s, "c", ann, bob); // 2 members
        Outcome third = ok(s.addMember(bob.user().phone(), c, cy.user().phone())); // any member adds: 3 = MAX_MEMBERS
        assertEquals(List.of(ann.user().phone(), bob.user().phone(), cy.user().phone()), phones(third));
        assertEquals(cy.user().phone(), third.user().phone());
        RandomchatRefusal full = refused(s.addMember(ann.user().phone(), c, dee.user().phone()));
        assertEquals(RandomchatRefusal.full(c, MAX_MEMBERS).getMessage(), full.getMessage());
        assertEquals(Metrics.RandomchatLimit.MEMBERS, full.limit);
        ok(s.removeMember(ann.user().phone(), c, cy.user().phone()));
        ok(s.addMember(ann.user().phone(), c, dee.user().phone()));
    }

    @Test
    void addMemberRefusesWhatItsRulesRefuse() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login eve = register(s, "eve");
        String c = chatOf(s, "c", ann, bob);
        assertRefused(RandomchatRefusal.noChat(run + "none"), s.addMember(ann.user().phone(), run + "none", bob.user().phone()));
        assertRefused(RandomchatRefusal.notMember(c), s.addMember(eve.user().phone(), c, eve.user().phone()));
        assertRefused(RandomchatRefusal.noUser(run + "nobody"), s.addMember(ann.user().phone(), c, run + "nobody"));
        assertRefused(RandomchatRefusal.alreadyMember(bob.user().phone(), c), s.addMember(ann.user().phone(), c,
                bob.user().phone()));
    }

    @Test
    void aUserIsAddedToAtMostMaxAddedChatsOfOthersAndItsOwnDoNotCount() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String b = bob.user().phone();
        ok(s.createChat(b, run + "bobs")); // Bob's own chat: not counted
        List<String> added = new ArrayList<>();
        for (int i = 0; i < MAX_ADDED; i++) {
            added.add(chatOf(s, "a" + i, ann, bob));
        }
        Login cy = register(s, "cy");
        String more = chatOf(s, "more", cy);
        RandomchatRefusal r = refused(s.addMember(cy.user().phone(), more, b));
        assertEquals(RandomchatRefusal.tooManyAddedChats(b, MAX_ADDED).getMessage(), r.getMessage());
        assertEquals(Metrics.RandomchatLimit.ADDED_CHATS, r.limit);
        ok(s.createChat(b, run + "bobs2")); // his own limit is untouched
        ok(s.removeMember(b, added.get(0), b)); // he leaves one
        ok(s.addMember(cy.user().phone(), more, b));
    }

    @Test
    void onlyTheOwnerRemovesOthersAMemberMayLeaveAndTheOwnerStays() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login cy = register(s, "cy");
        Login eve = register(s, "eve");
        String c = chatOf(s, "c", ann, bob, cy);
        String a = ann.user().phone();
        String b = bob.user().phone();
        assertRefused(RandomchatRefusal.notOwnerRemove(c), s.removeMember(b, c, cy.user().phone()));
        assertRefused(RandomchatRefusal.notMember(c), s.removeMember(eve.user().phone(), c, b));
        assertRefused(RandomchatRefusal.notAMember(eve.user().phone(), c), s.removeMember(a, c, eve.user().phone()));
        assertRefused(RandomchatRefusal.ownerStays(c), s.removeMember(a, c, a));
        assertRefused(RandomchatRefusal.noChat(run + "none"), s.removeMember(a, run + "none", b));
        Outcome left = ok(s.removeMember(b, c, b));
        assertEquals(RandomchatStore.Event.MEMBER_REMOVED, left.event());
        assertEquals(b, left.user().phone());
        assertEquals(List.of(a, cy.user().phone()), phones(left));
        assertTrue(left.local().contains(b), "the one who left hears of it: " + left.local());
        Outcome removed = ok(s.removeMember(a, c, cy.user().phone()));
        assertEquals(List.of(a), phones(removed));
        assertRefused(RandomchatRefusal.notMember(c), s.sendMessage(b, c, "x", now()));
    }

    // ---- messages: live, pending, their bound and time limit ----

    @Test
    void aMessageIsForTheOnlineMembersNowAndKeptForTheOthers() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login cy = register(s, "cy");
        String c = chatOf(s, "c", ann, bob, cy);
        logout(s, cy);
        Outcome o = ok(s.sendMessage(bob.user().phone(), c, "hi", now()));
        assertEquals(RandomchatStore.Event.MESSAGE, o.event());
        assertEquals(bob.user().phone(), o.user().phone());
        assertEquals("hi", o.message().text());
        assertEquals(List.of(ann.user().phone(), bob.user().phone()), o.local().stream().sorted().collect(Collectors.toList()));
        assertTrue(o.remote().isEmpty());
        assertNotEquals(User.NEVER, o.chat().members().get(2).disconnectionDate(), "Cy is offline");
        Login back = again(s, cy, now());
        assertEquals(List.of("hi"), texts(back));
        assertEquals(bob.user().phone(), back.chats().get(0).messages().get(0).from().phone());
        assertEquals(List.of("hi"), back.taken().stream().map(Pending::text).collect(Collectors.toList()));
        logout(s, back); // the state was not written as delivered: in flight, pending again
        assertEquals(List.of("hi"), texts(again(s, cy, now())));
    }

    @Test
    void whatAConnectionDeliveredIsNotPendingAfterItsLogout() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        Outcome one = ok(s.sendMessage(ann.user().phone(), c, "one", now()));
        ok(s.sendMessage(ann.user().phone(), c, "two", now()));
        ok(s.delivered(bob.user().phone(), List.of(one.message().id())));
        logout(s, bob); // "two" never written: pending
        assertEquals(List.of("two"), texts(again(s, bob, now())));
    }

    @Test
    void anOfflineUserKeepsItsNewestMaxPendingMessages() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        logout(s, bob);
        for (int i = 1; i <= MAX_PENDING; i++) {
            send(s, ann, c, "m" + i, now());
        }
        Login full = again(s, bob, now());
        assertEquals(List.of("m1", "m2", "m3"), texts(full));
        assertEquals(0, dropped(Metrics.RandomchatDrop.MAX_PENDING));
        ok(s.delivered(bob.user().phone(), full.taken().stream().map(Pending::id).collect(Collectors.toList())));
        logout(s, full);
        for (int i = 4; i <= MAX_PENDING + 4; i++) {
            send(s, ann, c, "m" + i, now());
        }
        assertEquals(List.of("m5", "m6", "m7"), texts(again(s, bob, now())), "the oldest dropped");
        assertEquals(1, dropped(Metrics.RandomchatDrop.MAX_PENDING));
        assertEquals(0, dropped(Metrics.RandomchatDrop.TTL));
    }

    @Test
    void whatIsInFlightIsBoundedLikePending() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        for (int i = 1; i <= MAX_PENDING; i++) {
            send(s, ann, c, "m" + i, now()); // none written to Bob's socket
        }
        assertEquals(0, dropped(Metrics.RandomchatDrop.MAX_PENDING));
        send(s, ann, c, "m4", now());
        assertEquals(1, dropped(Metrics.RandomchatDrop.MAX_PENDING));
        logout(s, bob);
        assertEquals(List.of("m2", "m3", "m4"), texts(again(s, bob, now())));
    }

    @Test
    void aPendingMessageIsTakenUntilItsTtlIsReachedAndDroppedAfter() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login cy = register(s, "cy");
        String c = chatOf(s, "c", ann, bob, cy);
        logout(s, bob);
        logout(s, cy);
        long sent = now();
        ok(s.sendMessage(ann.user().phone(), c, "dated", sent));
        long ttl = TTL.toMillis();
        assertEquals(List.of("dated"), texts(again(s, bob, sent + ttl)), "at the TTL: still kept");
        assertEquals(0, dropped(Metrics.RandomchatDrop.TTL));
        assertEquals(List.of(), texts(again(s, cy, sent + ttl + 1)), "past it: dropped");
        assertEquals(1, dropped(Metrics.RandomchatDrop.TTL));
        assertEquals(0, dropped(Metrics.RandomchatDrop.MAX_PENDING));
    }

    @Test
    void deletingAChatDropsItsPendingMessages() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        String other = chatOf(s, "other", ann, bob);
        logout(s, bob);
        ok(s.sendMessage(ann.user().phone(), c, "gone with it", now()));
        ok(s.sendMessage(ann.user().phone(), other, "stays", now()));
        ok(s.deleteChat(ann.user().phone(), c));
        ok(s.createChat(ann.user().phone(), c));
        ok(s.addMember(ann.user().phone(), c, bob.user().phone()));
        Login back = again(s, bob, now());
        assertEquals(List.of("stays"), back.taken().stream().map(Pending::text).collect(Collectors.toList()));
        assertEquals(List.of(), texts(back, c));
    }

    @Test
    void removingAMemberDropsItsPendingMessagesOfThatChatOnly() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login cy = register(s, "cy");
        String c = chatOf(s, "c", ann, bob, cy);
        String other = chatOf(s, "other", ann, bob);
        logout(s, bob);
        logout(s, cy);
        ok(s.sendMessage(ann.user().phone(), c, "both", now()));
        ok(s.sendMessage(ann.user().phone(), other, "elsewhere", now()));
        ok(s.removeMember(ann.user().phone(), c, bob.user().phone()));
        ok(s.addMember(ann.user().phone(), c, bob.user().phone()));
        Login back = again(s, bob, now());
        assertEquals(List.of("elsewhere"), back.taken().stream().map(Pending::text).collect(Collectors.toList()));
        assertEquals(List.of(other, c), chats(back), "the chats in the order he joined them");
        assertEquals(List.of("both"), texts(again(s, cy, now())), "the others keep theirs");
    }

    @Test
    void removingAnOnlineMemberDropsWhatIsInFlightToItInThatChat() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        ok(s.sendMessage(ann.user().phone(), c, "in flight", now()));
        ok(s.removeMember(bob.user().phone(), c, bob.user().phone()));
        logout(s, bob);
        assertEquals(List.of(), again(s, bob, now()).taken());
    }

    // ---- logout and hand-back ----

    @Test
    void aUserIsOfflineFromItsLastLogoutOnly() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login bob2 = again(s, bob, now());
        String c = chatOf(s, "c", ann, bob);
        ok(s.logout(bob.user().phone(), bob.connection(), List.of(), List.of(), 1_000));
        Outcome o = ok(s.sendMessage(ann.user().phone(), c, "x", now()));
        assertEquals(User.NEVER, o.chat().members().get(1).disconnectionDate(), "one connection left");
        assertTrue(o.local().contains(bob.user().phone()));
        ok(s.logout(bob.user().phone(), bob2.connection(), List.of(), List.of(), 2_000));
        o = ok(s.sendMessage(ann.user().phone(), c, "y", now()));
        assertEquals(2_000, o.chat().members().get(1).disconnectionDate());
        assertFalse(o.local().contains(bob.user().phone()));
        Login back = again(s, bob, now());
        assertEquals(2_000, back.user().disconnectionDate(), "the last disconnection stays while back online");
    }

    @Test
    void aMessageThatMissedTheOnlyConnectionIsKept() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        Pending m = ok(s.sendMessage(ann.user().phone(), c, "missed", now())).message();
        assertEquals(List.of(), ok(s.logout(bob.user().phone(), bob.connection(), List.of(m), List.of(), now())));
        assertEquals(List.of("missed"), texts(again(s, bob, now())), "once");
    }

    @Test
    void aMessageAnEarlierConnectionStillHoldsIsDroppedFromTheHandBack() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login bob2 = again(s, bob, now());
        String c = chatOf(s, "c", ann, bob);
        Pending m = ok(s.sendMessage(ann.user().phone(), c, "to both", now())).message();
        // bob2 missed it; bob, online when it was routed, got it (or hands it back itself).
        assertEquals(List.of(), ok(s.logout(bob.user().phone(), bob2.connection(), List.of(m), List.of(), now())));
        ok(s.delivered(bob.user().phone(), List.of(m.id())));
        logout(s, bob);
        assertEquals(List.of(), texts(again(s, bob, now())), "not kept: the first connection wrote it");
    }

    @Test
    void aMessageHandedBackIsRoutedAgainToAConnectionThatCameLater() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        Pending m = ok(s.sendMessage(ann.user().phone(), c, "late", now())).message();
        Login later = again(s, bob, now()); // came after the routing: never got it
        List<Outcome> again = ok(s.logout(bob.user().phone(), bob.connection(), List.of(m), List.of(), now()));
        assertEquals(1, again.size());
        Outcome o = again.get(0);
        assertEquals("late", o.message().text());
        assertEquals(m.id(), o.message().id(), "the same message in flight");
        assertTrue(o.message().seq() > later.connection(), "numbered after the later connection");
        assertEquals(List.of(bob.user().phone()), o.local());
        logout(s, later); // that one did not write it either: pending, once
        assertEquals(List.of("late"), texts(again(s, bob, now())));
    }

    @Test
    void aMessageAClosedConnectionDeliveredIsNotKeptWhenAnotherHandsItBack() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login bob2 = again(s, bob, now());
        String c = chatOf(s, "c", ann, bob);
        Pending m = ok(s.sendMessage(ann.user().phone(), c, "twice given", now())).message();
        // bob wrote it and closes, saying so (its delivered() call not made yet); then bob2 hands it back.
        ok(s.logout(bob.user().phone(), bob.connection(), List.of(), List.of(m.seq()), now()));
        assertEquals(List.of(), ok(s.logout(bob.user().phone(), bob2.connection(), List.of(m), List.of(), now())));
        assertEquals(List.of(), texts(again(s, bob, now())));
    }

    @Test
    void aRequeueOfWhatIsPendingAlreadyKeepsItOnce() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        Pending m = ok(s.sendMessage(ann.user().phone(), c, "requeued", now())).message();
        logout(s, bob); // the message is still in flight: pending now
        assertEquals(List.of(), ok(s.requeue(bob.user().phone(), m)), "pending already: not kept twice");
        assertEquals(List.of("requeued"), texts(again(s, bob, now())));
    }

    // ---- atomicity ----

    @Test
    void concurrentCreatesOfOneNameMakeOneChat() {
        RandomchatStore s = store();
        List<Login> users = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            users.add(register(s, "u" + i));
        }
        String c = run + "contested";
        List<CompletableFuture<Outcome>> all = users.stream().map(u -> s.createChat(u.user().phone(), c))
                .collect(Collectors.toList());
        assertEquals(1, all.stream().filter(f -> !f.handle((o, e) -> e != null).join()).count());
    }

    @Test
    void concurrentAddsNeverPassTheMembersLimit() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        String c = chatOf(s, "c", ann);
        List<CompletableFuture<Outcome>> adds = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Login u = register(s, "u" + i);
            adds.add(s.addMember(ann.user().phone(), c, u.user().phone()));
        }
        long added = adds.stream().filter(f -> !f.handle((o, e) -> e != null).join()).count();
        assertEquals(MAX_MEMBERS - 1, added);
        Outcome o = ok(s.sendMessage(ann.user().phone(), c, "count", now()));
        assertEquals(MAX_MEMBERS, o.chat().members().size());
    }

    @Test
    void concurrentCreatesByOneUserNeverPassItsLimit() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        List<CompletableFuture<Outcome>> creates = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            creates.add(s.createChat(ann.user().phone(), run + "c" + i));
        }
        assertEquals(MAX_CHATS, creates.stream().filter(f -> !f.handle((o, e) -> e != null).join()).count());
        assertEquals(MAX_CHATS, again(s, ann, now()).chats().size());
    }

    // ---- serving ----

    @Test
    void aServingStoreHasNoProblemAndAClosedOneRefuses() {
        RandomchatStore s = open(UnaryOperator.identity());
        register(s, "ann");
        assertNull(s.problem());
        s.close().join();
        assertRefused(RandomchatRefusal.stopping(), s.login("Ann", phone("bob"), null, now()));
    }
}
