using System.Globalization;
using EdgeAe.Data;
using DigitsDesktop;

// Encodes the first few bundled digits (pixels ÷ 16, as `edgeae train` saw them) with the baked
// model and prints, per digit, its code and reconstruction loss in round-trip form ("R"), one line each:
//   sample <index> label <digit> code <c0> … <c15> loss <Σ BCE>
const int Samples = 5;
Dataset digits = BundledData.Digits();
var model = new DigitsAe();
var code = new float[DigitsAe.CodeSize];
var reconstruction = new float[DigitsAe.InputSize];

Console.WriteLine($"weights {DigitsAe.BakedWeightsFile} crc32 {DigitsAe.BakedWeightsCrc32:x8}");
for (int i = 0; i < Samples; i++)
{
    model.Encode(digits[i], code);
    float loss = model.Reconstruct(digits[i], reconstruction);
    string codes = string.Join(' ', code.Select(static c => c.ToString("R", CultureInfo.InvariantCulture)));
    Console.WriteLine($"sample {i} label {digits.Labels![i]} code {codes} loss {loss.ToString("R", CultureInfo.InvariantCulture)}");
}
