import BatonCore
import BatonStore

extension JobOptions {
    /// Why a run that spent `usage` must stop (`max-tokens=`, `max-cost=`), or nil. The
    /// run then ends `partial` with its cursor kept: `baton resume` goes on once a person
    /// has raised the limit.
    public func spendLimitReached(_ usage: TokenUsage) -> String? {
        if let limit = maxTokens, usage.tokens >= limit {
            return "max-tokens=\(limit) reached (\(usage.tokens) tokens spent); raise it, then resume continues from the cursor"
        }
        if let limit = maxCost, usage.costUsd >= limit {
            let spent = (usage.costUsd * 10_000).rounded() / 10_000
            return "max-cost=\(limit) reached ($\(spent) spent); raise it, then resume continues from the cursor"
        }
        return nil
    }
}
