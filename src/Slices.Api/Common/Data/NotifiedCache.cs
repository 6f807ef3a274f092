using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Slices.Api.Common.Observability;

namespace Slices.Api.Common.Data;

// Values read from PostgreSQL, kept in memory only while a LISTEN connection tells this instance of every change to
// them (its owner calls Listening() once LISTEN is in place, Evict… for each notification, Forget() when the
// connection is lost). The instance that makes a change also evicts at once, after its commit, so its own next read
// is fresh. Entries expire after `lifetime` as a backstop; at `capacity` entries the cache starts again empty.
//
// A value read while an eviction happens is not kept: every eviction moves a generation, and a value is kept only if
// the generation it was read under still holds after it has been stored (an eviction that lands between that check and
// the store would otherwise find nothing to remove, and leave the stale value behind).
//
// Every lookup counts as a hit or a miss in `slices.cache.lookups`, tagged with name.
public sealed class NotifiedCache<TKey, TValue>(string name, TimeProvider clock, TimeSpan lifetime, int capacity)
    where TKey : notnull
    where TValue : class
{
    private readonly KeyValuePair<string, object?> cacheTag = new("cache", name);
    private readonly ConcurrentDictionary<TKey, Entry> entries = new();
    private long generation;
    private volatile bool listening;

    private bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (listening && entries.TryGetValue(key, out var hit) && clock.GetUtcNow() - hit.At < lifetime)
        {
            value = hit.Value;
            return true;
        }

        value = null;
        return false;
    }

    // The cached value, or what load reads (null: nothing to keep), kept when no eviction happened meanwhile.
    public async Task<TValue?> GetOrLoadAsync(TKey key, Func<CancellationToken, Task<TValue?>> load, CancellationToken ct)
    {
        if (TryGet(key, out var hit))
        {
            Telemetry.CacheLookups.Add(1, cacheTag, Hit);
            return hit;
        }

        Telemetry.CacheLookups.Add(1, cacheTag, Miss);
        var before = Interlocked.Read(ref generation);
        var at = clock.GetUtcNow();
        var value = await load(ct);
        if (value is not null && listening)
        {
            if (entries.Count >= capacity)
            {
                entries.Clear();
            }

            var entry = new Entry(value, at);
            entries[key] = entry;
            if (Interlocked.Read(ref generation) != before)
            {
                entries.TryRemove(KeyValuePair.Create(key, entry));
            }
        }

        return value;
    }

    public void Evict(TKey key)
    {
        Interlocked.Increment(ref generation);
        entries.TryRemove(key, out _);
    }

    public void EvictWhere(Func<TValue, bool> stale)
    {
        Interlocked.Increment(ref generation);
        foreach (var (key, entry) in entries)
        {
            if (stale(entry.Value))
            {
                entries.TryRemove(KeyValuePair.Create(key, entry));
            }
        }
    }

    public void EvictAll()
    {
        Interlocked.Increment(ref generation);
        entries.Clear();
    }

    // LISTEN is in place: from now on every change is heard of. A value read before it may predate a change that was
    // not, so the generation moves and no read begun earlier is kept.
    public void Listening()
    {
        Interlocked.Increment(ref generation);
        listening = true;
    }

    // Notifications may be missed while not listening: forget everything rather than trust it.
    public void Forget()
    {
        listening = false;
        EvictAll();
    }

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");

    private sealed record Entry(TValue Value, DateTimeOffset At);
}
