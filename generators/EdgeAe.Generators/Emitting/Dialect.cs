namespace EdgeAe.Generators.Emitting;

/// <summary>
/// What differs between the flavours of emitted code: buffer types, how buffers are cleared and
/// copied, and how the model holds its parameters. Kernel loops are written once
/// (<see cref="ScalarKernelWriter"/>) against the buffer names and indexers both dialects share.
/// </summary>
internal abstract class Dialect
{
    public static readonly Dialect Desktop = new DesktopDialect();

    /// <summary>Type of a read-only input buffer parameter.</summary>
    public abstract string InputBufferType { get; }

    /// <summary>Type of a writable output buffer parameter.</summary>
    public abstract string OutputBufferType { get; }

    /// <summary>Type of the local that indexes the parameter (and gradient) buffer.</summary>
    public abstract string ParameterLocalType { get; }

    /// <summary>Expression giving the parameter buffer as <see cref="ParameterLocalType"/>.</summary>
    public abstract string ParameterBuffer { get; }

    /// <summary>Expression giving the gradient buffer as <see cref="ParameterLocalType"/>.</summary>
    public abstract string GradientBuffer { get; }

    /// <summary>A statement clearing <paramref name="length"/> floats of a <see cref="ParameterLocalType"/> local.</summary>
    public abstract string Clear(string buffer, string length);

    /// <summary>A statement copying <paramref name="length"/> floats from the workspace at <paramref name="offset"/> to the start of <paramref name="destination"/>.</summary>
    public abstract string CopyFromWorkspace(int offset, int length, string destination);

    private sealed class DesktopDialect : Dialect
    {
        public override string InputBufferType => "global::System.ReadOnlySpan<float>";

        public override string OutputBufferType => "global::System.Span<float>";

        public override string ParameterLocalType => "global::System.Span<float>";

        public override string ParameterBuffer => "_parameters.Span";

        public override string GradientBuffer => "_gradients.Span";

        public override string Clear(string buffer, string length) => buffer + ".Slice(0, " + length + ").Clear();";

        public override string CopyFromWorkspace(int offset, int length, string destination)
            => "new global::System.ReadOnlySpan<float>(_workspace, " + Helpers.Invariant.Int(offset) + ", " + Helpers.Invariant.Int(length) + ").CopyTo(" + destination + ");";
    }
}
