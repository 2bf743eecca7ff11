namespace EdgeAe.Fleet;

/// <summary>
/// The topic filter devices publish under, e.g. <c>devices/+/ae</c>: the level matched by the filter's single-level
/// wildcard <c>+</c> is the device id (<c>devices/pump-17/ae</c> → <c>pump-17</c>). The filter has exactly one <c>+</c>
/// and no <c>#</c>, so every matching topic names exactly one device.
/// </summary>
public sealed class DeviceTopics
{
    /// <summary>The default filter of <c>serve</c> and topic pattern of <c>simulate</c>.</summary>
    public const string DefaultFilter = "devices/+/ae";

    /// <summary>The longest device id stored (characters); longer ids are dead-lettered.</summary>
    public const int MaxDeviceIdLength = 200;

    // The filter around its '+' level: "devices/" and "/ae" for devices/+/ae. A device's topic is the prefix, its id and
    // the suffix; serve reads the id of every message by matching both, without splitting the topic.
    private readonly string _prefix;
    private readonly string _suffix;

    private DeviceTopics(string filter, string[] levels, int deviceLevel)
    {
        Filter = filter;
        _prefix = string.Concat(levels[..deviceLevel].Select(l => l + "/"));
        _suffix = string.Concat(levels[(deviceLevel + 1)..].Select(l => "/" + l));
    }

    /// <summary>The topic filter, e.g. <c>devices/+/ae</c>.</summary>
    public string Filter { get; }

    /// <summary>Parses a filter; throws <see cref="FleetConfigurationException"/> unless it has exactly one <c>+</c> level and no <c>#</c>.</summary>
    public static DeviceTopics Parse(string filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        string[] levels = filter.Split('/');
        int plus = Array.FindAll(levels, l => l == "+").Length;
        if (filter.Length == 0 || filter.Contains('#', StringComparison.Ordinal) || plus != 1
            || levels.Any(l => l != "+" && l.Contains('+', StringComparison.Ordinal)) || filter.StartsWith('$'))
        {
            throw new FleetConfigurationException($"topic filter '{filter}' must have exactly one '+' level (the device id) and no '#', e.g. {DefaultFilter}");
        }

        return new DeviceTopics(filter, levels, Array.IndexOf(levels, "+"));
    }

    /// <summary>The topic a device publishes to: the filter with <paramref name="device"/> in place of <c>+</c>.</summary>
    public string TopicOf(string device)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        if (device.IndexOfAny(['/', '+', '#']) >= 0)
        {
            throw new ArgumentException($"A device id cannot contain '/', '+' or '#': '{device}'.", nameof(device));
        }

        return string.Concat(_prefix, device, _suffix);
    }

    /// <summary>The device id in <paramref name="topic"/>, or null when the topic does not match the filter or names no usable id.</summary>
    public string? DeviceOf(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        int length = topic.Length - _prefix.Length - _suffix.Length;
        if (length is <= 0 or > MaxDeviceIdLength
            || !topic.StartsWith(_prefix, StringComparison.Ordinal) || !topic.EndsWith(_suffix, StringComparison.Ordinal))
        {
            return null;
        }

        ReadOnlySpan<char> device = topic.AsSpan(_prefix.Length, length);
        return device.Contains('/') ? null : device.ToString();
    }
}
