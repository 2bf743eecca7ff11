using System.Runtime.InteropServices;

namespace EdgeAe.Cli;

/// <summary>
/// Turns the first SIGINT (Ctrl+C) or SIGTERM of a run into a cancellation the trainer honours between batches, so the
/// command ends in order (and says what it kept); a second signal ends the process at once — every output is written
/// atomically, so that never leaves a half-written file. Registered for the lifetime of one command.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration[] _registrations;
    private int _signal;

    public Interruption(params CancellationToken[] callers)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(callers);
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled by the first signal or by the caller's token.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>"SIGINT", "SIGTERM", or "cancelled" when the caller's token did it; null while not interrupted.</summary>
    public string? Reason => _signal switch
    {
        0 => _source.IsCancellationRequested ? "cancelled" : null,
        (int)PosixSignal.SIGTERM => "SIGTERM",
        _ => "SIGINT",
    };

    /// <summary>The conventional exit code: 128 + the signal number (130 for SIGINT and a cancellation, 143 for SIGTERM).</summary>
    public int ExitCode => Reason == "SIGTERM" ? 143 : CommandLine.Cancelled;

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.CompareExchange(ref _signal, (int)context.Signal, 0) == 0)
        {
            context.Cancel = true; // the first signal: stop in order
            _source.Cancel();
        }
    }
}
