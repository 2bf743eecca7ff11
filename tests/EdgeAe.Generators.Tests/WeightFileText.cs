using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// A weight file given to the generator as an additional file (<c>&lt;EdgeAeWeights&gt;</c> in a project): the generator
/// reads its bytes from <see cref="Path"/>, never its text, so the text is empty.
/// </summary>
internal sealed class WeightFileText(string path) : AdditionalText
{
    public override string Path { get; } = path;

    public override SourceText? GetText(CancellationToken cancellationToken = default) => SourceText.From(string.Empty);
}
